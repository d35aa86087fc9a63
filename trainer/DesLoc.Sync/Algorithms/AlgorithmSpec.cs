using System.Text.Json.Serialization;

namespace DesLoc.Sync.Algorithms;

/// <summary>The <c>algorithm</c> block of a LowCommJob spec: which sync strategy, and its own settings.</summary>
public sealed record AlgorithmSpec
{
    public AlgorithmType Type { get; init; } = AlgorithmType.DESLOC;

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

/// <summary>Local Adam: average parameters and both Adam moments every <see cref="Period"/> steps.</summary>
public sealed record LocalAdamSettings
{
    public int Period { get; init; } = 32;
}

/// <summary>DES-LOC: parameters every Kx steps, first moment every Ku, second every Kv (defaults 3·Kx and 6·Kx).</summary>
public sealed record DesLocSettings
{
    public int Kx { get; init; } = 32;

    public int? Ku { get; init; }

    public int? Kv { get; init; }

    public int EffectiveKu => Ku ?? 3 * Kx;

    public int EffectiveKv => Kv ?? 6 * Kx;
}

/// <summary>DiLoCo: every <see cref="Period"/> steps an outer Nesterov step on the averaged pseudo-gradient.</summary>
public sealed record DiLoCoSettings
{
    public int Period { get; init; } = 32;

    public double OuterLr { get; init; } = 0.7;

    public double OuterMomentum { get; init; } = 0.9;
}

/// <summary>PALSGD: DiLoCo plus free pseudo-sync steps with probability p, after a DDP warm-up.</summary>
public sealed record PalsgdSettings
{
    public int Period { get; init; } = 32;

    public double Probability { get; init; } = 0.2;

    public double Eta { get; init; } = 0.5;

    public int WarmupSteps { get; init; } = 32;

    public double OuterLr { get; init; } = 0.7;

    public double OuterMomentum { get; init; } = 0.9;
}

/// <summary>DCT momentum: DiLoCo whose outer momentum is shared only through its top-k DCT coefficients per chunk.</summary>
public sealed record DctSettings
{
    public int Period { get; init; } = 32;

    public int Chunk { get; init; } = 64;

    public int TopK { get; init; } = 4;

    public double Decay { get; init; } = 0.9;

    public double OuterLr { get; init; } = 0.7;
}
