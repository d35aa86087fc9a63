using System.Globalization;

namespace DesLoc.Bench.Fair;

/// <summary>
/// One method at one setting of the comparison: its algorithm block, wire format and period. <see cref="Family"/> names
/// the arm whose learning rates it shares: an arm is either tuned itself (<see cref="Tuned"/>) or takes its family's
/// tuned rates (another period, the parameters-only ablation, a compressed variant).
/// </summary>
internal sealed record Arm(string Name, string Family, int Period, AlgorithmSpec Algorithm, bool Tuned, string Compression = SyncSpec.NoCompression)
{
    private static readonly CultureInfo s_text = CultureInfo.InvariantCulture;

    /// <summary>Whether the method has an outer optimizer, whose learning rate is swept too.</summary>
    public bool HasOuterLr => Algorithm.Type is AlgorithmType.DiLoCo or AlgorithmType.PALSGD or AlgorithmType.DCTMomentum;

    /// <summary>The algorithm block with the given outer learning rate (unchanged for methods without one).</summary>
    public AlgorithmSpec WithOuterLr(double outerLr) => Algorithm.Type switch
    {
        AlgorithmType.DiLoCo => Algorithm with { Diloco = Algorithm.Diloco with { OuterLr = outerLr } },
        AlgorithmType.PALSGD => Algorithm with { Palsgd = Algorithm.Palsgd with { OuterLr = outerLr } },
        AlgorithmType.DCTMomentum => Algorithm with { Dct = Algorithm.Dct with { OuterLr = outerLr } },
        _ => Algorithm,
    };

    /// <summary>Local steps after the warm-up: <paramref name="localSteps"/>, except PALSGD's, stretched so that in
    /// expectation its gradient steps (and so its tokens) equal the others' and it still ends on an outer round.</summary>
    public int LocalSteps(int localSteps)
    {
        if (Algorithm.Type != AlgorithmType.PALSGD)
        {
            return localSteps;
        }

        double stretched = localSteps / (1 - Algorithm.Palsgd.Probability);
        return (int)Math.Ceiling(stretched / Period) * Period;
    }

    public static string F(FormattableString text) => text.ToString(s_text);
}

/// <summary>The arms of the comparison, for a base period K and a DDP warm-up every local method shares.</summary>
internal static class ComparisonGrid
{
    /// <summary>PALSGD's pseudo-sync probability and pull (its README recipe).</summary>
    public const double PalsgdProbability = 0.2;
    public const double PalsgdEta = 1.0;

    /// <summary>The paper's DCT setting: 64-wide blocks, 32 coefficients kept per block.</summary>
    public const int DctChunk = 64;
    public const int DctTopK = 32;

    /// <summary>Ku and Kv that never fire inside a run: DES-LOC reduced to averaging parameters only.</summary>
    public static int Never(int kx) => 1_000_000 / kx * kx;

    public static IReadOnlyList<Arm> Arms(int k, int warmup)
    {
        AlgorithmSpec Base(AlgorithmType type) => new() { Type = type, DdpWarmupSteps = type == AlgorithmType.DDP ? 0 : warmup };
        Arm LocalAdam(int period, bool tuned) =>
            new(Arm.F($"Local Adam K={period}"), "Local Adam", period, Base(AlgorithmType.LocalAdam) with { LocalAdam = new() { Period = period } }, tuned);
        Arm DesLoc(int kx, bool tuned, string compression = SyncSpec.NoCompression) =>
            new(Arm.F($"DES-LOC Kx={kx} ({3 * kx}, {6 * kx})") + (compression == SyncSpec.NoCompression ? "" : $", {compression}"), "DES-LOC", kx,
                Base(AlgorithmType.DESLOC) with { Desloc = new() { Kx = kx, Ku = 3 * kx, Kv = 6 * kx } }, tuned, compression);
        Arm DiLoCo(int h, bool tuned, string compression = SyncSpec.NoCompression) =>
            new(Arm.F($"DiLoCo H={h}") + (compression == SyncSpec.NoCompression ? "" : $", {compression}"), "DiLoCo", h,
                Base(AlgorithmType.DiLoCo) with { Diloco = new() { Period = h } }, tuned, compression);

        return
        [
            new("DDP", "DDP", 1, Base(AlgorithmType.DDP), Tuned: true),
            LocalAdam(k, tuned: true),
            DesLoc(k, tuned: true),
            new(Arm.F($"parameters only Kx={k} (moments never synced)"), "DES-LOC", k,
                Base(AlgorithmType.DESLOC) with { Desloc = new() { Kx = k, Ku = Never(k), Kv = Never(k) } }, Tuned: false),
            LocalAdam(2 * k, tuned: false),
            DiLoCo(k, tuned: true),
            new(Arm.F($"PALSGD H={k} p={PalsgdProbability}"), "PALSGD", k,
                Base(AlgorithmType.PALSGD) with { Palsgd = new() { Period = k, Probability = PalsgdProbability, Eta = PalsgdEta } }, Tuned: true),
            new(Arm.F($"DCT momentum H={k} top-{DctTopK} per {DctChunk}-block"), "DCT momentum", k,
                Base(AlgorithmType.DCTMomentum) with { Dct = new() { Period = k, Chunk = DctChunk, TopK = DctTopK } }, Tuned: true),
            LocalAdam(4 * k, tuned: false),
            DesLoc(4 * k, tuned: false),
            DiLoCo(4 * k, tuned: false),
            DesLoc(k, tuned: false, SyncSpec.Bf16Compression),
            DiLoCo(k, tuned: false, SyncSpec.Int8Compression),
        ];
    }
}
