using DesLoc.Operator.Adaptive;
using DesLoc.Operator.Api.Resources;

namespace DesLoc.Operator.Tests.Adaptive;

/// <summary>
/// Policy theory for DES-LOC: a slower link stretches kv, then ku (up to its cap from b1), then kx; a faster one
/// shortens kx, then ku, then kv; bytes per step move by the wanted factor, never more than x2.
/// </summary>
public sealed class AdaptiveSyncTheoryTests
{
    private static readonly AdaptiveSyncSpec s_policy = new()
    {
        Enabled = true, Policy = AdaptiveSyncSpec.Theory, TargetCommFraction = 0.1, Hysteresis = 0.25, MinPeriod = 4, MaxPeriod = 256, SwitchAfterPeriods = 2,
    };

    private static Dictionary<string, int> Periods(int kx, int ku, int kv) => new() { ["params"] = kx, ["m1"] = ku, ["m2"] = kv };

    private static double Bytes(IReadOnlyDictionary<string, int> p) => (1.0 / p["params"]) + (1.0 / p["m1"]) + (1.0 / p["m2"]);

    private static PeriodChange? Decide(Dictionary<string, int> periods, double commFraction, AdaptiveSyncSpec? policy = null, double beta1 = 0.9) =>
        AdaptiveSync.Decide(policy ?? s_policy, AlgorithmType.DESLOC, beta1, periods, commFraction, 1000);

    /// <summary>The cut in bytes per step the controller wants for a comm fraction (before its x2 bound).</summary>
    private static double WantedCut(double commFraction, double target = 0.1) => commFraction / (1 - commFraction) * ((1 - target) / target);

    [Theory]
    [InlineData(4, 0.9, 256, 72)]    // 1/(1/8 - 1/9) = 72
    [InlineData(2, 0.9, 256, 6)]     // 1/(1/4 - 1/9) = 7.2, down to a multiple of 2
    [InlineData(5, 0.9, 256, 255)]   // kx past b1/(2(1-b1)) = 4.5: m1 sync does not pay, maxPeriod as a multiple of 5
    [InlineData(16, 0.99, 4096, 32)] // 1/(1/32 - 1/99) = 47.3
    [InlineData(64, 0.99, 4096, 4096)]
    [InlineData(4, 0.0, 256, 256)]   // no momentum memory: nothing to keep in sync
    public void FirstMomentCap_FollowsTheBound(int kx, double beta1, int maxPeriod, int cap) =>
        Assert.Equal(cap, AdaptiveSync.FirstMomentCap(kx, beta1, maxPeriod));

    [Fact]
    public void SmallCut_IsTakenFromKvAlone()
    {
        PeriodChange change = Decide(Periods(4, 12, 24), 0.108, s_policy with { Hysteresis = 0.05 })!;

        Assert.Equal(4, change.Periods["params"]);
        Assert.Equal(12, change.Periods["m1"]);
        Assert.InRange(change.Periods["m2"], 48, 255);
        Assert.Equal(0, change.Periods["m2"] % 4);
        Assert.InRange(Bytes(Periods(4, 12, 24)) / Bytes(change.Periods), WantedCut(0.108) / 1.02, WantedCut(0.108) * 1.02);
    }

    [Fact]
    public void LargerCut_TakesKvToMaxPeriod_ThenStretchesKu_AndLeavesKx()
    {
        PeriodChange change = Decide(Periods(4, 12, 24), 0.13)!;

        Assert.Equal(Periods(4, change.Periods["m1"], 256), change.Periods);
        Assert.InRange(change.Periods["m1"], 16, 72);
        Assert.InRange(Bytes(Periods(4, 12, 24)) / Bytes(change.Periods), WantedCut(0.13) / 1.02, WantedCut(0.13) * 1.02);
        Assert.Contains("above target", change.Reason);
        Assert.Equal(1000 + (2 * 4), change.SwitchStep);
    }

    [Fact]
    public void KxIsStretchedLast_OnlyOnceKuIsAtItsCap_AndNeverBeyondTwofold()
    {
        // b1 = 0.99 remembers about 100 steps: at kx = 16, ku is worth syncing up to 32, so the rest comes from kx.
        PeriodChange change = Decide(Periods(16, 16, 48), 0.6, beta1: 0.99)!;

        int kx = change.Periods["params"];
        Assert.InRange(kx, 17, 32);
        Assert.Equal(AdaptiveSync.FirstMomentCap(kx, 0.99, 256), change.Periods["m1"]);
        Assert.Equal(256 / kx * kx, change.Periods["m2"]);
        Assert.InRange(Bytes(Periods(16, 16, 48)) / Bytes(change.Periods), 1.8, 2.0);
    }

    [Fact]
    public void FasterLink_ShortensKxFirst_KeepingTheMoments()
    {
        PeriodChange change = Decide(Periods(16, 256, 256), 0.05)!;

        Assert.Equal(Periods(8, 256, 256), change.Periods);
        Assert.Contains("below target", change.Reason);
    }

    [Fact]
    public void FasterLink_WithKxAtMinPeriod_ShortensKuToKx_BeforeKv()
    {
        PeriodChange change = Decide(Periods(4, 256, 256), 0.05)!;

        Assert.Equal(4, change.Periods["params"]);
        Assert.Equal(4, change.Periods["m1"]);
        Assert.InRange(change.Periods["m2"], 4, 252);
        Assert.InRange(Bytes(change.Periods) / Bytes(Periods(4, 256, 256)), 1.9, 2.0);
    }

    [Fact]
    public void AtEveryBound_NothingChanges()
    {
        Assert.Null(Decide(Periods(256, 768, 1536), 0.99)); // kx at maxPeriod, ku and kv at the recommended 3kx and 6kx above it
        Assert.Null(Decide(Periods(4, 4, 4), 0.001));       // everything at minPeriod
        Assert.Null(Decide(Periods(32, 96, 192), 0.11));    // inside the band
    }

    /// <summary>
    /// A job's comm fraction as the trainer would measure it: each state's sync moves a model's worth of bytes over
    /// the link, compute is fixed per step.
    /// </summary>
    private static double CommFraction(IReadOnlyDictionary<string, int> periods, double bandwidthBytesPerSecond)
    {
        const double computeSecondsPerStep = 0.05;
        const double bytesPerModel = 4e6;
        double commPerStep = Bytes(periods) * bytesPerModel / bandwidthBytesPerSecond;
        return commPerStep / (commPerStep + computeSecondsPerStep);
    }

    [Fact]
    public void RecordedSequence_StretchesKvKuKx_InThatOrder_AndShortensKxKuKv_InThatOrder()
    {
        // 10 polls at 1 GB/s, 20 at 20 MB/s, 30 at 1 GB/s again. Each accepted change applies before the next poll.
        double[] bandwidth = [.. Enumerable.Repeat(1e9, 10), .. Enumerable.Repeat(2e7, 20), .. Enumerable.Repeat(1e9, 30)];
        Dictionary<string, int> periods = Periods(8, 24, 48);
        var changes = new List<(Dictionary<string, int> From, IReadOnlyDictionary<string, int> To)>();
        double lastSlowFraction = 0;
        for (int poll = 0; poll < bandwidth.Length; poll++)
        {
            double fraction = CommFraction(periods, bandwidth[poll]);
            lastSlowFraction = poll == 29 ? fraction : lastSlowFraction;
            if (Decide(periods, fraction) is { } change)
            {
                changes.Add((periods, change.Periods));
                periods = new Dictionary<string, int>(change.Periods);
            }
        }

        Assert.NotEmpty(changes);
        foreach ((Dictionary<string, int> from, IReadOnlyDictionary<string, int> to) in changes)
        {
            (int kx, int ku, int kv) = (to["params"], to["m1"], to["m2"]);
            Assert.InRange(kx, s_policy.MinPeriod, s_policy.MaxPeriod);
            // A moment is stretched up to maxPeriod (or 3kx, 6kx); shortening kx first may leave it above that for a while.
            Assert.InRange(ku, kx, ku > from["m1"] ? Math.Max(s_policy.MaxPeriod, 3 * kx) : from["m1"]);
            Assert.InRange(kv, kx, kv > from["m2"] ? Math.Max(s_policy.MaxPeriod, 6 * kx) : from["m2"]);
            Assert.True(ku % kx == 0 && kv % kx == 0, $"ku {ku} and kv {kv} must be multiples of kx {kx}");
            double achieved = Bytes(from) / Bytes(to);
            Assert.InRange(achieved, 1 / AdaptiveSync.MaxFactor, AdaptiveSync.MaxFactor);
            int top = Math.Max(s_policy.MaxPeriod, 6 * kx) / kx * kx;
            if (achieved > 1)
            {
                // Stretching: ku moves only once kv is at the top, kx only once ku is at its cap as well.
                if (ku > from["m1"] || kx > from["params"])
                {
                    Assert.True(kv == top, $"ku or kx stretched before kv: {Show(from)} -> {Show(to)}");
                }

                if (kx > from["params"])
                {
                    Assert.True(ku >= AdaptiveSync.FirstMomentCap(kx, 0.9, Math.Max(s_policy.MaxPeriod, 3 * kx)), $"kx stretched before ku: {Show(from)} -> {Show(to)}");
                }
            }
            else
            {
                // Shortening (beyond rounding to the new kx): ku only once kx is at minPeriod, kv only once ku is at kx.
                if (ku < from["m1"] / kx * kx)
                {
                    Assert.True(kx == s_policy.MinPeriod, $"ku shortened before kx: {Show(from)} -> {Show(to)}");
                }

                if (kv < from["m2"] / kx * kx)
                {
                    Assert.True(ku == kx, $"kv shortened before ku: {Show(from)} -> {Show(to)}");
                }
            }
        }

        Assert.Contains(changes, c => c.To["params"] > c.From["params"]);
        Assert.Contains(changes, c => c.To["params"] < c.From["params"]);
        Assert.InRange(lastSlowFraction, 0.0, s_policy.TargetCommFraction * (1 + s_policy.Hysteresis) + 1e-9); // back near the target on the slow link
        // At 1 GB/s even syncing every state every minPeriod steps costs less than the target: all the way back down.
        Assert.Equal(Periods(4, 4, 4), periods);
    }

    private static string Show(IReadOnlyDictionary<string, int> p) => $"({p["params"]}, {p["m1"]}, {p["m2"]})";
}
