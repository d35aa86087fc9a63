using System.Globalization;

namespace DesLoc.Bench.Claims;

/// <summary>
/// One row of a claims table: a name and the LowCommJob <c>algorithm</c> block (YAML) that selects it, and
/// <c>sync.overlapSteps</c> when its syncs overlap the next steps.
/// </summary>
internal sealed record Method(string Name, string Family, int Period, string AlgorithmYaml, int? OverlapSteps = null)
{
    private static readonly CultureInfo s_text = CultureInfo.InvariantCulture;

    /// <summary>The same method with each sync left in flight for <paramref name="steps"/> steps (below its period).</summary>
    public Method Overlapped(int steps) => this with { Name = F($"{Name} overlap {steps}"), OverlapSteps = steps };

    public static Method Ddp() => new("DDP", "DDP", 1, "type: DDP");

    public static Method LocalAdam(int k) => new(F($"Local Adam K={k}"), "Local Adam", k, F($"type: LocalAdam\nlocalAdam:\n  period: {k}"));

    /// <summary>DES-LOC at the recommended ratios Ku = 3Kx, Kv = 6Kx.</summary>
    public static Method DesLoc(int kx) =>
        new(F($"DES-LOC Kx={kx} ({3 * kx}, {6 * kx})"), "DES-LOC", kx, F($"type: DESLOC\ndesloc:\n  kx: {kx}\n  ku: {3 * kx}\n  kv: {6 * kx}"));

    public static Method DiLoCo(int h) => new(F($"DiLoCo H={h}"), "DiLoCo", h, F($"type: DiLoCo\ndiloco:\n  period: {h}"));

    /// <summary>PALSGD with the README recipe's p = 0.2, eta = 1 and a DDP warmup of one period.</summary>
    public static Method Palsgd(int h) =>
        new(F($"PALSGD H={h} p=0.2"), "PALSGD", h, F($"type: PALSGD\npalsgd:\n  period: {h}\n  probability: 0.2\n  eta: 1\nddpWarmupSteps: {h}"));

    /// <summary>DCT momentum in flat 1-D chunks of 64, the setting the recorded comm-quality and two-sites tables were measured with.</summary>
    public static Method Dct(int h, int topK = 4) =>
        new(F($"DCT momentum H={h} top-{topK}/64"), "DCT momentum", h, F($"type: DCTMomentum\ndct:\n  period: {h}\n  blocks: flat\n  chunk: 64\n  topK: {topK}"));

    private static string F(FormattableString text) => text.ToString(s_text);
}
