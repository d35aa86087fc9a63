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
