using DesLoc.Contract.Collectives;
using DesLoc.Sync.Accounting;
using DesLoc.Sync.Algorithms;

namespace DesLoc.Trainer.Tests.Training;

/// <summary>The algebraic identities between the methods, on real TorchSharp training with 4 replicas.</summary>
[Collection("TorchSharp")]
public sealed class IdentityTests
{
    [Fact]
    public async Task DesLoc_WithEqualPeriods_GivesExactlyLocalAdamsParameters()
    {
        var desloc = TinyJobs.Spec(new AlgorithmSpec { Type = AlgorithmType.DESLOC, Desloc = new() { Kx = 5, Ku = 5, Kv = 5 } }, steps: 20);
        var localAdam = TinyJobs.Spec(new AlgorithmSpec { Type = AlgorithmType.LocalAdam, LocalAdam = new() { Period = 5 } }, steps: 20);

        var (_, deslocParameters) = await TinyJobs.RunAsync(desloc);
        var (_, localAdamParameters) = await TinyJobs.RunAsync(localAdam);

        Assert.Equal(localAdamParameters, deslocParameters);
    }

    [Fact]
    public async Task LocalAdam_WithPeriodOne_KeepsReplicasIdentical()
    {
        var (_, parameters) = await TinyJobs.RunAsync(TinyJobs.Spec(new AlgorithmSpec { Type = AlgorithmType.LocalAdam, LocalAdam = new() { Period = 1 } }, steps: 15));

        Assert.All(parameters, p => Assert.Equal(parameters[0], p));
    }

    [Fact]
    public async Task LocalAdam_BetweenSyncs_ReplicasDrift()
    {
        // The control for the test above: 10 steps with K = 3 end one step after a sync.
        var (_, parameters) = await TinyJobs.RunAsync(TinyJobs.Spec(new AlgorithmSpec { Type = AlgorithmType.LocalAdam, LocalAdam = new() { Period = 3 } }, steps: 10));

        Assert.NotEqual(parameters[0], parameters[1]);
    }

    [Fact]
    public async Task DiLoCo_WithOuterLrOneAndNoMomentum_EqualsParameterAveragingAtTheSync()
    {
        // One outer round (steps = H): anchor − mean(anchor − θ) and mean(θ) differ only by float rounding.
        // Not over several rounds: Adam moves near-zero-gradient weights by about lr·sign(g), so later steps
        // amplify a 1e-7 rounding difference into differences of order lr.
        var diloco = TinyJobs.Spec(new AlgorithmSpec { Type = AlgorithmType.DiLoCo, Diloco = new() { Period = 6, OuterLr = 1, OuterMomentum = 0 } }, steps: 6);

        var (_, dilocoParameters) = await TinyJobs.RunAsync(diloco);
        var (_, averagedParameters) = await TinyJobs.RunAsync(diloco, (collective, count) => new ParameterAveraging(collective, count, period: 6));
        var (_, unsyncedParameters) = await TinyJobs.RunAsync(diloco, (collective, count) => new ParameterAveraging(collective, count, period: 1000));

        for (int i = 0; i < dilocoParameters[0].Length; i++)
        {
            Assert.Equal(averagedParameters[0][i], dilocoParameters[0][i], 1e-6f);
        }

        Assert.All(dilocoParameters, p => Assert.Equal(dilocoParameters[0], p));
        Assert.True(dilocoParameters[0].Zip(unsyncedParameters[0]).Max(pair => Math.Abs(pair.First - pair.Second)) > 1e-3);
    }

    [Fact]
    public async Task Palsgd_WithProbabilityZero_EqualsDiLoCo()
    {
        var palsgd = TinyJobs.Spec(new AlgorithmSpec
        {
            Type = AlgorithmType.PALSGD,
            Palsgd = new() { Period = 5, Probability = 0, OuterLr = 0.7, OuterMomentum = 0.9 },
        }, steps: 20);
        var diloco = TinyJobs.Spec(new AlgorithmSpec { Type = AlgorithmType.DiLoCo, Diloco = new() { Period = 5, OuterLr = 0.7, OuterMomentum = 0.9 } }, steps: 20);

        var (_, palsgdParameters) = await TinyJobs.RunAsync(palsgd);
        var (_, dilocoParameters) = await TinyJobs.RunAsync(diloco);

        Assert.Equal(dilocoParameters, palsgdParameters);
    }

    [Theory]
    [InlineData(AlgorithmType.DESLOC)]
    [InlineData(AlgorithmType.DiLoCo)]
    [InlineData(AlgorithmType.DCTMomentum)]
    public async Task Overlap_DelayZero_EqualsBlocking_ParametersAndLedgers(AlgorithmType type)
    {
        JobSpec blocking = TinyJobs.Spec(new AlgorithmSpec { Type = type, Desloc = new() { Kx = 4 }, Diloco = new() { Period = 4 }, Dct = new() { Period = 4 } }, steps: 26);
        JobSpec overlapped = blocking with { Sync = new SyncSpec { OverlapSteps = 0 } };

        var (blockingResult, blockingParameters) = await TinyJobs.RunAsync(blocking);
        var (overlappedResult, overlappedParameters) = await TinyJobs.RunAsync(overlapped);

        Assert.Equal(blockingParameters, overlappedParameters);
        Assert.Equal(blockingResult.EvalLosses, overlappedResult.EvalLosses);
        for (int rank = 0; rank < 4; rank++)
        {
            Assert.Equal(blockingResult.Ledgers[rank].PayloadBytes, overlappedResult.Ledgers[rank].PayloadBytes);
            Assert.Equal(blockingResult.Ledgers[rank].WireBytes, overlappedResult.Ledgers[rank].WireBytes);
            Assert.Equal(blockingResult.Ledgers[rank].Steps, overlappedResult.Ledgers[rank].Steps);
        }
    }

    [Fact]
    public async Task Overlap_Delayed_SameBytes_OtherTrajectory_LastSyncLandsAtItsOwnStep()
    {
        // 24 steps, H = 4, d = 2: the syncs of 4..20 land two steps later; the one of step 24 lands there (training ends),
        // so every replica adopts the same anchor, as blocking DiLoCo's do.
        JobSpec blocking = TinyJobs.Spec(new AlgorithmSpec { Type = AlgorithmType.DiLoCo, Diloco = new() { Period = 4 } }, steps: 24);
        JobSpec overlapped = blocking with { Sync = new SyncSpec { OverlapSteps = 2 } };

        var (blockingResult, blockingParameters) = await TinyJobs.RunAsync(blocking);
        var (overlappedResult, overlappedParameters) = await TinyJobs.RunAsync(overlapped);

        Assert.All(overlappedParameters, p => Assert.Equal(overlappedParameters[0], p));
        Assert.NotEqual(blockingParameters[0], overlappedParameters[0]);
        long model = (long)blockingResult.ParameterCount * sizeof(float);
        for (int rank = 0; rank < 4; rank++)
        {
            Assert.Equal(24 / 4 * model, overlappedResult.Ledgers[rank].PayloadBytes[StateKind.PseudoGrad]);
            Assert.Equal(blockingResult.Ledgers[rank].WireBytes, overlappedResult.Ledgers[rank].WireBytes);
            Assert.Equal(24, overlappedResult.Ledgers[rank].Steps);
        }
    }

    [Fact]
    public async Task DesLoc_OnRealTraining_CountsBytesByTheFormula()
    {
        var spec = TinyJobs.Spec(new AlgorithmSpec { Type = AlgorithmType.DESLOC, Desloc = new() { Kx = 4 } }, steps: 48);   // Ku 12, Kv 24

        var (result, _) = await TinyJobs.RunAsync(spec);

        long model = (long)result.ParameterCount * sizeof(float);
        foreach (LedgerSnapshot ledger in result.Ledgers)
        {
            Assert.Equal(48 / 4 * model, ledger.PayloadBytes[StateKind.Params]);
            Assert.Equal(48 / 12 * model, ledger.PayloadBytes[StateKind.M1]);
            Assert.Equal(48 / 24 * model, ledger.PayloadBytes[StateKind.M2]);
            Assert.Equal(48 * model, ledger.DdpEquivalentPayloadBytes);
        }
    }

    /// <summary>The oracle: average the parameters every <c>period</c> steps, nothing else.</summary>
    private sealed class ParameterAveraging(ICollective collective, int parameterCount, int period) : SyncStrategy(collective, parameterCount)
    {
        protected override bool ExchangesAtLocal(long localStep, SyncPhase phase) => phase == SyncPhase.AfterStep && IsMultiple(localStep, period);

        public override IReadOnlyDictionary<string, int> Periods => new Dictionary<string, int> { ["params"] = period };

        protected override async ValueTask SyncAfterStepAsync(long localStep, IReplicaState replica, CancellationToken cancellationToken)
        {
            if (IsMultiple(localStep, period))
            {
                await AverageAsync(StateKind.Params, replica, cancellationToken);
            }
        }
    }
}
