using DesLoc.Sync.Accounting;
using DesLoc.Sync.Algorithms;
using DesLoc.Sync.Math;
using DesLoc.Sync.State;
using DesLoc.Transport.Collectives;

namespace DesLoc.Sync.Tests.Algorithms;

/// <summary><c>sync.overlapSteps</c>: a sync left in flight for d steps, applied as a correction when it lands.</summary>
public sealed class OverlapTests
{
    private const int P = 300;

    public static TheoryData<string, AlgorithmSpec> Methods => new()
    {
        { "DESLOC", new AlgorithmSpec { Type = AlgorithmType.DESLOC, Desloc = new() { Kx = 3, Ku = 6, Kv = 12 } } },
        { "DiLoCo", new AlgorithmSpec { Type = AlgorithmType.DiLoCo, Diloco = new() { Period = 5 } } },
        { "PALSGD", new AlgorithmSpec { Type = AlgorithmType.PALSGD, Palsgd = new() { Period = 5, Probability = 0.2, Eta = 0.5 } } },
        { "DCTMomentum", new AlgorithmSpec { Type = AlgorithmType.DCTMomentum, Dct = new() { Period = 5, Chunk = 16, TopK = 8 } } },
        { "DiLoCo after a DDP warm-up", new AlgorithmSpec { Type = AlgorithmType.DiLoCo, DdpWarmupSteps = 3, Diloco = new() { Period = 4 } } },
    };

    [Theory]
    [MemberData(nameof(Methods))]
    public async Task OverlapZero_EqualsBlocking_StateAndLedger(string name, AlgorithmSpec spec)
    {
        var (blockingStrategies, blocking) = await StrategyHarness.RunAsync(spec, 3, P, 37);
        var (overlappedStrategies, overlapped) = await StrategyHarness.RunAsync(spec, 3, P, 37, overlapSteps: 0);

        for (int rank = 0; rank < 3; rank++)
        {
            foreach (StateKind kind in new[] { StateKind.Params, StateKind.M1, StateKind.M2 })
            {
                Assert.True(blocking[rank][kind].SequenceEqual(overlapped[rank][kind]), $"{name}: rank {rank} {kind} differs");
            }

            Assert.Equal(Bundle(blockingStrategies[rank]).ToBytes(), Bundle(overlappedStrategies[rank]).ToBytes());
        }
    }

    /// <summary>DiLoCo, H = 5, d = 2, two replicas (so the mean (a + b)/2 is exact in any order): the delayed outer update, computed apart.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public async Task DiLoCo_Delayed_AppliesTheOuterStepOfTheSyncStep_KeepsTheStepsSince(int delay)
    {
        const int H = 5;
        const int T = 23;   // the sync of step 20 is still in flight at the end for d = 4: it lands at the last step
        var spec = new AlgorithmSpec { Type = AlgorithmType.DiLoCo, Diloco = new() { Period = H } };
        var (strategies, replicas) = await StrategyHarness.RunAsync(spec, 2, P, T, overlapSteps: delay);

        var outer = new OuterNesterov(P, spec.Diloco.OuterLr, spec.Diloco.OuterMomentum);
        float[][] theta = [new float[P], new float[P]];
        float[][] sent = [new float[P], new float[P]];
        float[] mean = new float[P];
        long? landsAt = null;
        Random[] random = [new Random(1), new Random(2)];
        for (long step = 1; step <= T; step++)
        {
            for (int r = 0; r < 2; r++)
            {
                for (int i = 0; i < P; i++)
                {
                    theta[r][i] -= 0.01f * 1f * (float)(random[r].NextDouble() - 0.5);
                }
            }

            if (step % H == 0)
            {
                for (int i = 0; i < P; i++)
                {
                    mean[i] = ((outer.Anchor[i] - theta[0][i]) + (outer.Anchor[i] - theta[1][i])) / 2;
                }

                theta[0].CopyTo(sent[0], 0);
                theta[1].CopyTo(sent[1], 0);
                landsAt = step + delay;
            }

            if (step == landsAt || (step == T && landsAt is not null))
            {
                outer.Step(mean);
                for (int r = 0; r < 2; r++)
                {
                    for (int i = 0; i < P; i++)
                    {
                        theta[r][i] = outer.Anchor[i] + (theta[r][i] - sent[r][i]);
                    }
                }

                landsAt = null;
            }
        }

        Assert.Equal(theta[0], replicas[0][StateKind.Params]);
        Assert.Equal(theta[1], replicas[1][StateKind.Params]);
        Assert.Equal(outer.Anchor, Bundle(strategies[0]).Floats("outer.anchor"));
        Assert.Equal(T / H, strategies[0].Ledger.Exchanges(StateKind.PseudoGrad));
        Assert.Equal(T / H * (long)P * sizeof(float), strategies[0].Ledger.Snapshot().PayloadBytes[StateKind.PseudoGrad]);
    }

    /// <summary>DES-LOC, d = 2: every state averaged at t becomes the mean of its values at t plus its own change since.</summary>
    [Fact]
    public async Task DesLoc_Delayed_AppliesTheMeanOfTheSyncStep_KeepsTheStepsSince()
    {
        const int D = 2;
        const int T = 26;
        var spec = new AlgorithmSpec { Type = AlgorithmType.DESLOC, Desloc = new() { Kx = 4, Ku = 8, Kv = 12 } };
        var (strategies, replicas) = await StrategyHarness.RunAsync(spec, 2, P, T, overlapSteps: D);

        StateKind[] kinds = [StateKind.Params, StateKind.M1, StateKind.M2];
        int[] periods = [4, 8, 12];
        var state = kinds.ToDictionary(k => k, _ => new[] { new float[P], new float[P] });
        var sent = kinds.ToDictionary(k => k, _ => new[] { new float[P], new float[P] });
        var mean = kinds.ToDictionary(k => k, _ => new float[P]);
        var due = new List<StateKind>();
        long landsAt = -1;
        Random[] random = [new Random(1), new Random(2)];
        for (long step = 1; step <= T; step++)
        {
            for (int r = 0; r < 2; r++)
            {
                for (int i = 0; i < P; i++)
                {
                    float g = (float)(random[r].NextDouble() - 0.5);
                    state[StateKind.Params][r][i] -= 0.01f * 1f * g;
                    state[StateKind.M1][r][i] = 0.9f * state[StateKind.M1][r][i] + 0.1f * g;
                    state[StateKind.M2][r][i] = 0.99f * state[StateKind.M2][r][i] + 0.01f * g * g;
                }
            }

            if (step == landsAt || (step == T && due.Count > 0))
            {
                foreach (StateKind kind in due)
                {
                    for (int r = 0; r < 2; r++)
                    {
                        for (int i = 0; i < P; i++)
                        {
                            state[kind][r][i] = mean[kind][i] + (state[kind][r][i] - sent[kind][r][i]);
                        }
                    }
                }

                due.Clear();
            }

            for (int k = 0; k < kinds.Length; k++)
            {
                if (step % periods[k] == 0)
                {
                    StateKind kind = kinds[k];
                    due.Add(kind);
                    for (int i = 0; i < P; i++)
                    {
                        mean[kind][i] = (state[kind][0][i] + state[kind][1][i]) / 2;
                    }

                    state[kind][0].CopyTo(sent[kind][0], 0);
                    state[kind][1].CopyTo(sent[kind][1], 0);
                    landsAt = step + D;
                }
            }
        }

        foreach (StateKind kind in kinds)
        {
            Assert.Equal(state[kind][0], replicas[0][kind]);
            Assert.Equal(state[kind][1], replicas[1][kind]);
        }

        Assert.Equal(T / 4, strategies[0].Ledger.Exchanges(StateKind.Params));
        Assert.Equal(T / 8, strategies[0].Ledger.Exchanges(StateKind.M1));
        Assert.Equal(T / 12, strategies[0].Ledger.Exchanges(StateKind.M2));
    }

    /// <summary>
    /// Replica 2 dies before its sync at step 5 (it never joins the transfer); the group is aborted while the others' transfers
    /// are in flight. The survivors train on, and at the landing step the failure surfaces with nothing applied: their
    /// parameters are what they trained to, the anchor and the ledger are those of before the round, nothing is in flight.
    /// </summary>
    [Fact]
    public async Task AbortDuringOverlappedSync_NoSurvivorAppliesAnything()
    {
        const int H = 5;
        const int D = 2;
        var spec = new AlgorithmSpec { Type = AlgorithmType.DiLoCo, Diloco = new() { Period = H } };
        var group = new InMemoryCollectiveGroup(3);
        ISyncStrategy[] survivors = [.. Enumerable.Range(0, 2).Select(r => SyncStrategies.Create(spec, group[r], P, 1, overlapSteps: D))];
        ArrayReplica[] replicas = [new ArrayReplica(P), new ArrayReplica(P)];
        for (int r = 0; r < 2; r++)
        {
            survivors[r].Initialize(replicas[r]);
        }

        var random = new Random(5);
        float[][] trained = [new float[P], new float[P]];
        async Task StepAsync(int r, long step)
        {
            float[] parameters = replicas[r][StateKind.Params];
            for (int i = 0; i < P; i++)
            {
                parameters[i] += (float)(random.NextDouble() - 0.5);
            }

            parameters.CopyTo(trained[r], 0);
            await survivors[r].AfterStepAsync(step, replicas[r], default);
        }

        for (long step = 1; step <= H + 1; step++)
        {
            await StepAsync(0, step);
            await StepAsync(1, step);
        }

        Assert.All(survivors, s => Assert.Equal((long?)(H + D), s.LandsAt));
        Assert.Throws<InvalidOperationException>(() => survivors[0].ExportState(new StateBundle()));
        group.Abort(new IOException("replica 2 is gone"));
        for (int r = 0; r < 2; r++)
        {
            await Assert.ThrowsAsync<CollectiveAbortedException>(() => StepAsync(r, H + D));
            Assert.Equal(trained[r], replicas[r][StateKind.Params]);
            Assert.Null(survivors[r].LandsAt);
            StateBundle after = Bundle(survivors[r]);
            Assert.All(after.Floats("outer.anchor"), a => Assert.Equal(0f, a));
            Assert.Equal(0, survivors[r].Ledger.Exchanges(StateKind.PseudoGrad));
        }
    }

    [Fact]
    public void CheckPeriods_APeriodNotAboveTheDelay_IsRefused()
    {
        var spec = new AlgorithmSpec { Type = AlgorithmType.DiLoCo, Diloco = new() { Period = 8 } };
        ISyncStrategy strategy = SyncStrategies.Create(spec, new InMemoryCollectiveGroup(1)[0], 10, 1, overlapSteps: 3);

        Assert.Null(strategy.CheckPeriods(new Dictionary<string, int> { ["outer"] = 4 }));
        Assert.Contains("overlapSteps", strategy.CheckPeriods(new Dictionary<string, int> { ["outer"] = 3 }));
    }

    [Fact]
    public void Create_MethodThatCannotOverlap_Throws()
    {
        var spec = new AlgorithmSpec { Type = AlgorithmType.LocalAdam };

        Assert.Throws<ArgumentException>(() => SyncStrategies.Create(spec, new InMemoryCollectiveGroup(1)[0], 10, 1, overlapSteps: 1));
    }

    private static StateBundle Bundle(ISyncStrategy strategy)
    {
        var bundle = new StateBundle();
        strategy.ExportState(bundle);
        return bundle;
    }
}
