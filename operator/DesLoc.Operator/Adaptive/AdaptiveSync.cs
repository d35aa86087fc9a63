using System.Globalization;
using DesLoc.Operator.Api.Resources;

namespace DesLoc.Operator.Adaptive;

/// <summary>
/// The adaptive sync controller's decision. With compute time c per step and sync rounds costing C per step, a job
/// spends f = C / (C + c) of the time communicating, so meeting the target t takes C cut by f/(1-f) * (1-t)/t. The
/// change is made only when f leaves the band t*(1 +- hysteresis), and bytes per step move by at most a factor of 2.
/// </summary>
/// <remarks>
/// <para>
/// Policy <c>uniform</c> scales every period by that factor, inside [minPeriod, maxPeriod] for the base period
/// (DES-LOC keeps ku/kx and kv/kx). Algorithms with one period (Local Adam, DiLoCo, PALSGD, DCT) are always scaled.
/// </para>
/// <para>
/// Policy <c>theory</c>, for DES-LOC, spends the wanted cut where DES-LOC's bound says it is cheapest. Bytes per step
/// are 1/kx + 1/ku + 1/kv model sizes. The bound's local-step term is
/// psi = 4(1-px)/px^2 * (1-b1)(1-pu)/(1-(1-pu)b1) with px = 1/kx, pu = 1/ku (algorithms.md §1.2): kv is absent from
/// it (it only has to stay finite), psi grows as kx^2, and in ku it saturates once ku passes m1's memory 1/(1-b1).
/// So a slower link stretches kv first, then ku, then kx; a faster one shortens kx first, then ku, then kv.
/// </para>
/// <para>
/// ku's stretch is capped where m1 sync still pays: at a fixed budget 1/kx + 1/ku, psi is least at
/// 1/ku = 1/(2kx) - (1-b1)/b1 (for periods of a few steps or more). With b1 = 0.9 that is ku = 72 at kx = 4, and no
/// finite ku from kx = 5 on: once kx passes b1/(2(1-b1)), about m1's half-life (4.5 and 6.6 steps), m1 sync buys little, and ku may go to
/// its ceiling. ku and kv stay multiples of kx (as the spec requires) and at least kx; they are stretched up to maxPeriod
/// (or the recommended 3kx and 6kx when those are longer, so at a given kx the theory policy never sends more than uniform), so
/// every state is still averaged within a bounded number of steps (DES-LOC's fault-tolerance argument, §1.3).
/// </para>
/// </remarks>
public static class AdaptiveSync
{
    public const double MaxFactor = 2.0;

    /// <summary>The state whose period is bounded by min/maxPeriod: parameters for DES-LOC and Local Adam, else the outer step.</summary>
    public static string BaseState(IReadOnlyDictionary<string, int> periods) => periods.ContainsKey("params") ? "params" : "outer";

    /// <param name="policy">The job's <c>sync.adaptive</c>.</param>
    /// <param name="algorithm">The job's algorithm: only DES-LOC's periods are independent (Local Adam has the same three, kept equal).</param>
    /// <param name="beta1">AdamW's first-moment decay, which caps how far ku is stretched.</param>
    /// <param name="periods">The periods rank 0 runs now.</param>
    /// <param name="commFraction">The fraction of wall time rank 0 spent in sync rounds over the window.</param>
    /// <param name="step">Rank 0's step; the change applies a few periods after it.</param>
    public static PeriodChange? Decide(
        AdaptiveSyncSpec policy, AlgorithmType algorithm, double beta1, IReadOnlyDictionary<string, int> periods, double commFraction, long step)
    {
        if (!policy.Enabled || periods.Count == 0 || !double.IsFinite(commFraction) || commFraction < 0)
        {
            return null;
        }

        double target = policy.TargetCommFraction;
        double high = target * (1 + policy.Hysteresis);
        double low = target * (1 - policy.Hysteresis);
        if (commFraction <= high && commFraction >= low)
        {
            return null;
        }

        string baseState = BaseState(periods);
        if (!periods.TryGetValue(baseState, out int current) || current < 1)
        {
            return null;
        }

        // The wanted cut in bytes per step (below 1: room to spend more).
        double f = Math.Clamp(commFraction, 1e-6, 1 - 1e-6);
        double cut = Math.Clamp(f / (1 - f) * ((1 - target) / target), 1 / MaxFactor, MaxFactor);
        string direction = cut > 1 ? "above" : "below";
        string why = string.Create(CultureInfo.InvariantCulture,
            $"comm fraction {commFraction:0.###} {direction} target {target:0.###} (+-{policy.Hysteresis:P0})");

        if (policy.Policy == AdaptiveSyncSpec.Theory && algorithm == AlgorithmType.DESLOC && DeslocPeriods.From(periods) is { } desloc)
        {
            DeslocPeriods next = cut > 1 ? Stretch(desloc, cut, beta1, policy) : Shorten(desloc, cut, policy);
            return next == desloc ? null : new PeriodChange
            {
                Periods = next.ToDictionary(),
                SwitchStep = step + ((long)policy.SwitchAfterPeriods * Math.Max(desloc.Kx, next.Kx)),
                Reason = string.Create(CultureInfo.InvariantCulture,
                    $"{why}; model sizes per step {desloc.Bytes:0.####} -> {next.Bytes:0.####}: kv {desloc.Kv} -> {next.Kv}, ku {desloc.Ku} -> {next.Ku}, kx {desloc.Kx} -> {next.Kx}"),
            };
        }

        int scaled = Math.Clamp((int)Math.Round(current * cut), policy.MinPeriod, policy.MaxPeriod);
        if (scaled == current)
        {
            return null;
        }

        return new PeriodChange
        {
            Periods = periods.ToDictionary(
                p => p.Key,
                p => p.Key == baseState ? scaled : Math.Max(1, (int)Math.Round((double)p.Value / current * scaled))),
            SwitchStep = step + ((long)policy.SwitchAfterPeriods * Math.Max(current, scaled)),
            Reason = string.Create(CultureInfo.InvariantCulture, $"{why}; {baseState} period {current} -> {scaled}"),
        };
    }

    /// <summary>
    /// ku's cap at a given kx: the ku that minimises psi at a fixed 1/kx + 1/ku (see the remarks), a multiple of kx
    /// within [kx, ceiling]; the ceiling when m1 sync does not pay at that kx.
    /// </summary>
    public static int FirstMomentCap(int kx, double beta1, int ceiling)
    {
        double inverse = (1.0 / (2.0 * kx)) - ((1 - beta1) / beta1);
        double cap = inverse > 0 ? Math.Min(1 / inverse, ceiling) : ceiling;
        return Math.Max(kx, (int)((cap / kx) + 1e-9) * kx); // 1e-9: 1/(1/8 - 1/9) is 72 less a rounding error
    }

    /// <summary>How far the theory policy stretches ku at a kx: maxPeriod, or DES-LOC's recommended ku if that is longer.</summary>
    private static int KuCeiling(int kx, AdaptiveSyncSpec policy) => Math.Max(policy.MaxPeriod, DesLocSettings.KuPerKx * kx);

    /// <summary>How far the theory policy stretches kv at a kx, a multiple of kx: maxPeriod, or DES-LOC's recommended kv if that is longer.</summary>
    private static int KvTop(int kx, AdaptiveSyncSpec policy) => Math.Max(kx, Math.Max(policy.MaxPeriod, DesLocSettings.KvPerKx * kx) / kx * kx);

    /// <summary>Lengthens kv to its top, then ku to its cap, then kx, until bytes per step fall by <paramref name="cut"/> (never by more than x2).</summary>
    private static DeslocPeriods Stretch(DeslocPeriods now, double cut, double beta1, AdaptiveSyncSpec policy)
    {
        double goal = now.Bytes / cut;
        double limit = now.Bytes / MaxFactor;
        (DeslocPeriods p, bool exhausted) = Walk(now, goal, limit,
            Multiples(now.Kx, now.Kv, KvTop(now.Kx, policy)).Select(kv => now with { Kv = kv }));
        if (!exhausted)
        {
            return p;
        }

        DeslocPeriods afterKv = p;
        (p, exhausted) = Walk(p, goal, limit,
            Multiples(p.Kx, p.Ku, FirstMomentCap(p.Kx, beta1, KuCeiling(p.Kx, policy))).Select(ku => afterKv with { Ku = ku }));
        if (!exhausted)
        {
            return p;
        }

        // kx last: each longer kx takes the moments to its own caps (a moment beyond them keeps its length, to a multiple of kx).
        DeslocPeriods afterKu = p;
        IEnumerable<DeslocPeriods> longer = Enumerable.Range(p.Kx + 1, Math.Max(0, policy.MaxPeriod - p.Kx)).Select(kx => new DeslocPeriods(
            kx,
            Math.Max(Down(afterKu.Ku, kx), FirstMomentCap(kx, beta1, KuCeiling(kx, policy))),
            Math.Max(Down(afterKu.Kv, kx), KvTop(kx, policy))));
        return Walk(p, goal, limit, longer).Periods;
    }

    /// <summary>Shortens kx down to minPeriod, then ku down to kx, then kv down to ku, until bytes per step grow by 1/<paramref name="cut"/> (never by more than x2).</summary>
    private static DeslocPeriods Shorten(DeslocPeriods now, double cut, AdaptiveSyncSpec policy)
    {
        double goal = now.Bytes / cut;
        double limit = now.Bytes * MaxFactor;
        IEnumerable<DeslocPeriods> shorter = Enumerable.Range(0, Math.Max(0, now.Kx - policy.MinPeriod))
            .Select(i => now.Kx - 1 - i)
            .Select(kx => new DeslocPeriods(kx, Down(now.Ku, kx), Down(now.Kv, kx)));
        (DeslocPeriods p, bool exhausted) = Walk(now, goal, limit, shorter);
        if (!exhausted)
        {
            return p;
        }

        DeslocPeriods afterKx = p;
        (p, exhausted) = Walk(p, goal, limit, Multiples(p.Kx, p.Ku, p.Kx).Select(ku => afterKx with { Ku = ku }));
        if (!exhausted)
        {
            return p;
        }

        DeslocPeriods afterKu = p;
        return Walk(p, goal, limit, Multiples(p.Kx, p.Kv, Math.Min(p.Kv, p.Ku)).Select(kv => afterKu with { Kv = kv })).Periods;
    }

    /// <summary>
    /// Walks <paramref name="candidates"/> (each a step further from <paramref name="start"/>) until one reaches the
    /// goal, and keeps whichever of it and the one before is nearer the goal in ratio; none may pass the limit.
    /// Exhausted: every candidate was taken without reaching the goal, so the next period may move.
    /// </summary>
    private static (DeslocPeriods Periods, bool Exhausted) Walk(DeslocPeriods start, double goal, double limit, IEnumerable<DeslocPeriods> candidates)
    {
        bool lengthening = goal < start.Bytes;
        double tolerance = lengthening ? 1 - 1e-9 : 1 + 1e-9; // a change of exactly x2 is allowed, whatever the rounding
        DeslocPeriods best = start;
        foreach (DeslocPeriods candidate in candidates)
        {
            if (lengthening ? candidate.Bytes < limit * tolerance : candidate.Bytes > limit * tolerance)
            {
                return (best, false);
            }

            if (lengthening ? candidate.Bytes <= goal : candidate.Bytes >= goal)
            {
                return (Math.Abs(Math.Log(candidate.Bytes / goal)) < Math.Abs(Math.Log(best.Bytes / goal)) ? candidate : best, false);
            }

            best = candidate;
        }

        return (best, true);
    }

    /// <summary>Multiples of kx from <paramref name="start"/> (exclusive) towards <paramref name="end"/> (inclusive), either way.</summary>
    private static IEnumerable<int> Multiples(int kx, int start, int end)
    {
        int step = end >= start ? kx : -kx;
        for (int value = start + step; step > 0 ? value <= end : value >= end; value += step)
        {
            yield return value;
        }
    }

    private static int Down(int period, int kx) => Math.Max(kx, period / kx * kx);

    /// <summary>DES-LOC's three periods and the model sizes per step they send.</summary>
    private sealed record DeslocPeriods(int Kx, int Ku, int Kv)
    {
        public double Bytes => (1.0 / Kx) + (1.0 / Ku) + (1.0 / Kv);

        public static DeslocPeriods? From(IReadOnlyDictionary<string, int> periods) =>
            periods.Count == 3 && periods.TryGetValue("params", out int kx) && periods.TryGetValue("m1", out int ku) && periods.TryGetValue("m2", out int kv)
                && kx >= 1 && ku >= 1 && kv >= 1
                ? new DeslocPeriods(kx, ku, kv)
                : null;

        public Dictionary<string, int> ToDictionary() => new() { ["params"] = Kx, ["m1"] = Ku, ["m2"] = Kv };
    }
}
