using System.Globalization;
using DesLoc.Operator.Api.Resources;

namespace DesLoc.Operator.Adaptive;

/// <summary>
/// The adaptive sync controller's decision. With compute time c per step and a sync round costing C, a period P
/// spends f = (C/P) / (C/P + c) of the time communicating, so the period that meets the target t is
/// P * f/(1-f) * (1-t)/t. The change is made only when f leaves the band t*(1 +- hysteresis), at most by a factor of
/// 2, inside [minPeriod, maxPeriod], and every state's period is scaled alike (DES-LOC keeps ku/kx and kv/kx).
/// </summary>
public static class AdaptiveSync
{
    public const double MaxFactor = 2.0;

    /// <summary>The state whose period is bounded by min/maxPeriod: parameters for DES-LOC and Local Adam, else the outer step.</summary>
    public static string BaseState(IReadOnlyDictionary<string, int> periods) => periods.ContainsKey("params") ? "params" : "outer";

    public static PeriodChange? Decide(AdaptiveSyncSpec policy, IReadOnlyDictionary<string, int> periods, double commFraction, long step)
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

        double f = Math.Clamp(commFraction, 1e-6, 1 - 1e-6);
        double wanted = current * (f / (1 - f)) * ((1 - target) / target);
        double bounded = Math.Clamp(wanted, current / MaxFactor, current * MaxFactor);
        int next = Math.Clamp((int)Math.Round(bounded), policy.MinPeriod, policy.MaxPeriod);
        if (next == current)
        {
            return null;
        }

        var scaled = periods.ToDictionary(
            p => p.Key,
            p => p.Key == baseState ? next : Math.Max(1, (int)Math.Round((double)p.Value / current * next)));
        string direction = next > current ? "above" : "below";
        return new PeriodChange
        {
            Periods = scaled,
            SwitchStep = step + ((long)policy.SwitchAfterPeriods * Math.Max(current, next)),
            Reason = string.Create(CultureInfo.InvariantCulture,
                $"comm fraction {commFraction:0.###} {direction} target {target:0.###} (+-{policy.Hysteresis:P0}); {baseState} period {current} -> {next}"),
        };
    }
}
