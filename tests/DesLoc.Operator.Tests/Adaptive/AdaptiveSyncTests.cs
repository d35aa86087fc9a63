using DesLoc.Operator.Adaptive;
using DesLoc.Operator.Api.Resources;

namespace DesLoc.Operator.Tests.Adaptive;

/// <summary>What every policy shares (the band, the switch step, the bounds), and policy uniform's scaling.</summary>
public sealed class AdaptiveSyncTests
{
    private static readonly AdaptiveSyncSpec s_policy = new()
    {
        Enabled = true, Policy = AdaptiveSyncSpec.Uniform, TargetCommFraction = 0.1, Hysteresis = 0.25, MinPeriod = 4, MaxPeriod = 256, SwitchAfterPeriods = 2,
    };

    private static PeriodChange? Decide(AdaptiveSyncSpec policy, Dictionary<string, int> periods, double commFraction, long step) =>
        AdaptiveSync.Decide(policy, periods.ContainsKey("outer") ? AlgorithmType.DiLoCo : AlgorithmType.DESLOC, 0.9, periods, commFraction, step);

    private static Dictionary<string, int> Desloc(int kx) => new() { ["params"] = kx, ["m1"] = 3 * kx, ["m2"] = 6 * kx };

    /// <summary>
    /// A job's comm fraction as the trainer would measure it: a sync round moves a fixed number of bytes over the link
    /// (DES-LOC at these ratios averages 1.5 rounds of parameters per kx steps), compute is fixed per step.
    /// </summary>
    private static double CommFraction(int kx, double bandwidthBytesPerSecond)
    {
        const double computeSecondsPerStep = 0.05;
        const double bytesPerRound = 4e6;
        double commPerStep = 1.5 * bytesPerRound / bandwidthBytesPerSecond / kx;
        return commPerStep / (commPerStep + computeSecondsPerStep);
    }

    [Fact]
    public void InsideTheBand_NothingChanges()
    {
        Assert.Null(Decide(s_policy, Desloc(32), 0.11, 1000));
        Assert.Null(Decide(s_policy, Desloc(32), 0.08, 1000));
        Assert.Null(Decide(s_policy with { Enabled = false }, Desloc(32), 0.9, 1000));
        Assert.Null(Decide(s_policy with { Policy = AdaptiveSyncSpec.Theory }, Desloc(32), 0.11, 1000));
    }

    [Theory]
    [InlineData(AlgorithmType.LocalAdam)]
    [InlineData(AlgorithmType.DiLoCo)]
    public void OnePeriodAlgorithms_AreScaled_WhateverThePolicy(AlgorithmType algorithm)
    {
        Dictionary<string, int> periods = algorithm == AlgorithmType.LocalAdam
            ? new() { ["params"] = 16, ["m1"] = 16, ["m2"] = 16 }
            : new() { ["outer"] = 16 };
        PeriodChange change = AdaptiveSync.Decide(s_policy with { Policy = AdaptiveSyncSpec.Theory }, algorithm, 0.9, periods, 0.6, 0)!;

        Assert.All(change.Periods.Values, p => Assert.Equal(32, p));
    }

    [Fact]
    public void Uniform_KeepsDeslocRatios_IsAtMostTwofold_AndSwitchesAFewRoundsAhead()
    {
        PeriodChange change = Decide(s_policy, Desloc(32), 0.6, 1000)!;
        Assert.Equal(Desloc(64), change.Periods);
        Assert.Equal(1000 + (2 * 64), change.SwitchStep);
        Assert.Contains("above target", change.Reason);

        PeriodChange shorter = Decide(s_policy, new Dictionary<string, int> { ["outer"] = 100 }, 0.01, 500)!;
        Assert.Equal(50, shorter.Periods["outer"]);
    }

    [Fact]
    public void Uniform_RecordedSequence_LengthensWhenBandwidthDrops_ShortensWhenItRecovers_WithinTheBounds()
    {
        // 10 polls at 1 GB/s, 20 at 20 MB/s, 20 at 1 GB/s again. Each accepted change applies before the next poll.
        double[] bandwidth = [.. Enumerable.Repeat(1e9, 10), .. Enumerable.Repeat(2e7, 20), .. Enumerable.Repeat(1e9, 20)];
        int kx = 32;
        var trace = new List<(double Bandwidth, int Kx, double Fraction)>();
        foreach (double link in bandwidth)
        {
            double fraction = CommFraction(kx, link);
            trace.Add((link, kx, fraction));
            if (Decide(s_policy, Desloc(kx), fraction, 0) is { } change)
            {
                int next = change.Periods["params"];
                Assert.InRange(next, Math.Max(s_policy.MinPeriod, kx / 2), Math.Min(s_policy.MaxPeriod, kx * 2));
                Assert.Equal(3 * next, change.Periods["m1"]);
                Assert.Equal(6 * next, change.Periods["m2"]);
                kx = next;
            }
        }

        int fastKx = trace[9].Kx;
        int slowKx = trace[29].Kx;
        int recoveredKx = trace[^1].Kx;
        Assert.True(slowKx > fastKx, $"kx should grow on the slow link: {fastKx} -> {slowKx}");
        Assert.True(recoveredKx < slowKx, $"kx should shrink when the link recovers: {slowKx} -> {recoveredKx}");
        Assert.InRange(trace[29].Fraction, 0.0, s_policy.TargetCommFraction * (1 + s_policy.Hysteresis) + 1e-9); // back near the target
        Assert.All(trace, t => Assert.InRange(t.Kx, s_policy.MinPeriod, s_policy.MaxPeriod));
    }

    [Fact]
    public void Bounds_AreNeverCrossed()
    {
        Assert.Null(Decide(s_policy, Desloc(256), 0.99, 0)); // already at maxPeriod
        Assert.Equal(4, Decide(s_policy, Desloc(6), 0.0001, 0)!.Periods["params"]);
    }
}
