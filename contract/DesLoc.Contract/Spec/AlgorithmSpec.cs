using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;

namespace DesLoc.Contract.Spec;

[Description("Which sync method the replicas use, and its own settings (only the block of the chosen type is read).")]
public sealed record AlgorithmSpec
{
    public AlgorithmType Type { get; init; } = AlgorithmType.DESLOC;

    [Description("Steps trained as DDP (gradients averaged every step) before a local method starts; its periods count from the end of the warm-up, and its bytes are counted as gradients. The same for every method, so comparisons stay fair (PALSGD's paper warms up this way). Ignored by DDP.")]
    [Range(0, int.MaxValue)]
    public int DdpWarmupSteps { get; init; }

    /// <summary>
    /// The fewest steps between two syncs of the method (ku and kv are multiples of kx), which a sync left in flight
    /// (<see cref="SyncSpec.OverlapSteps"/>) must land within; null for the methods that cannot overlap their syncs.
    /// </summary>
    [JsonIgnore]
    public int? OverlapBound => Type switch
    {
        AlgorithmType.DESLOC => Desloc.Kx,
        AlgorithmType.DiLoCo => Diloco.Period,
        AlgorithmType.PALSGD => Palsgd.Period,
        AlgorithmType.DCTMomentum => Dct.Period,
        _ => null,
    };

    public LocalAdamSettings LocalAdam { get; init; } = new();

    public DesLocSettings Desloc { get; init; } = new();

    public DiLoCoSettings Diloco { get; init; } = new();

    public PalsgdSettings Palsgd { get; init; } = new();

    public DctSettings Dct { get; init; } = new();
}

[JsonConverter(typeof(JsonStringEnumConverter<AlgorithmType>))]
public enum AlgorithmType
{
    DDP,
    LocalAdam,
    DESLOC,
    DiLoCo,
    PALSGD,
    DCTMomentum,
}

[Description("Local Adam: average parameters and both Adam moments every period steps.")]
public sealed record LocalAdamSettings
{
    [Range(1, 1000000)]
    public int Period { get; init; } = 32;
}

[Description("DES-LOC: parameters every kx steps, first moment every ku, second moment every kv (defaults 3*kx and 6*kx; multiples of kx).")]
public sealed record DesLocSettings
{
    /// <summary>The recommended ku/kx and kv/kx (algorithms.md §1.2): the defaults of ku and kv.</summary>
    public const int KuPerKx = 3;

    public const int KvPerKx = 6;

    [Range(1, 1000000)]
    public int Kx { get; init; } = 32;

    [Range(1, 1000000)]
    public int? Ku { get; init; }

    [Range(1, 1000000)]
    public int? Kv { get; init; }

    [JsonIgnore]
    public int EffectiveKu => Ku ?? (KuPerKx * Kx);

    [JsonIgnore]
    public int EffectiveKv => Kv ?? (KvPerKx * Kx);
}

[Description("DiLoCo: every period steps, an outer Nesterov step on the averaged pseudo-gradient.")]
public sealed record DiLoCoSettings
{
    [Range(1, 1000000)]
    public int Period { get; init; } = 32;

    [Range(0.0, 10.0, MinimumIsExclusive = true)]
    public double OuterLr { get; init; } = 0.7;

    [Range(0.0, 1.0, MaximumIsExclusive = true)]
    public double OuterMomentum { get; init; } = 0.9;
}

[Description("PALSGD: DiLoCo plus, with probability p per replica and step, a free pseudo-sync toward the last global model.")]
public sealed record PalsgdSettings
{
    [Range(1, 1000000)]
    public int Period { get; init; } = 32;

    [Range(0.0, 1.0, MaximumIsExclusive = true)]
    public double Probability { get; init; } = 0.2;

    [Description("Pull of a pseudo-sync step toward the last global model; eta * training.learningRate / probability must stay below 1.")]
    [Range(0.0, 1.0, MinimumIsExclusive = true)]
    public double Eta { get; init; } = 0.5;

    [Range(0.0, 10.0, MinimumIsExclusive = true)]
    public double OuterLr { get; init; } = 0.7;

    [Range(0.0, 1.0, MaximumIsExclusive = true)]
    public double OuterMomentum { get; init; } = 0.9;
}

[Description("DCT momentum: DiLoCo whose outer momentum is shared only through its top-k DCT coefficients per block.")]
public sealed record DctSettings
{
    /// <summary>Each tensor in 2-D blocks of at most chunk x chunk (the paper's cut).</summary>
    public const string TensorBlocks = "tensor";

    /// <summary>The flat concatenation of all parameters in 1-D chunks of chunk.</summary>
    public const string FlatBlocks = "flat";

    [Range(1, 1000000)]
    public int Period { get; init; } = 32;

    [Description("tensor: each tensor in blocks of at most chunk x chunk, a dimension's block being its largest divisor up to chunk (the paper's cut; 1-D tensors in chunks of that length). flat: all parameters concatenated, in 1-D chunks of chunk.")]
    [AllowedValues(TensorBlocks, FlatBlocks)]
    public string Blocks { get; init; } = TensorBlocks;

    [Description("Block side (tensor) or length (flat), in parameters.")]
    [Range(1, 4096)]
    public int Chunk { get; init; } = 64;

    [Description("Coefficients sent per block (fewer when a block is smaller); at most chunk*chunk with tensor blocks, chunk with flat ones.")]
    [Range(1, 4096)]
    public int TopK { get; init; } = 32;

    [Description("Outer momentum decay; below 1, or the momentum never forgets.")]
    [Range(0.0, 1.0, MaximumIsExclusive = true)]
    public double Decay { get; init; } = 0.9;

    [Range(0.0, 10.0, MinimumIsExclusive = true)]
    public double OuterLr { get; init; } = 0.7;
}
