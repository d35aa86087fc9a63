using DesLoc.Sync.Algorithms;
using DesLoc.Transport.Collectives;

namespace DesLoc.Sync.Tests.Algorithms;

public sealed class SyncPeriodsTests
{
    private static ISyncStrategy Create(AlgorithmSpec spec) => SyncStrategies.Create(spec, new InMemoryCollectiveGroup(1)[0], 10, 1);

    [Fact]
    public void DesLoc_SetPeriods_MovesEveryStatesSyncSteps()
    {
        ISyncStrategy desloc = Create(new AlgorithmSpec { Type = AlgorithmType.DESLOC, Desloc = new() { Kx = 4 } });

        Assert.True(desloc.ExchangesAt(4, SyncPhase.AfterStep));
        desloc.SetPeriods(new Dictionary<string, int> { ["params"] = 8, ["m1"] = 24, ["m2"] = 48 });

        Assert.False(desloc.ExchangesAt(4, SyncPhase.AfterStep));
        Assert.True(desloc.ExchangesAt(8, SyncPhase.AfterStep));
        Assert.Equal(new Dictionary<string, int> { ["params"] = 8, ["m1"] = 24, ["m2"] = 48 }, desloc.Periods);
    }

    [Theory]
    [InlineData(AlgorithmType.DiLoCo)]
    [InlineData(AlgorithmType.PALSGD)]
    [InlineData(AlgorithmType.DCTMomentum)]
    public void OuterMethods_SetPeriods_ChangeTheOuterRound(AlgorithmType type)
    {
        ISyncStrategy strategy = Create(new AlgorithmSpec { Type = type });

        strategy.SetPeriods(new Dictionary<string, int> { ["outer"] = 7 });

        Assert.True(strategy.ExchangesAt(14, SyncPhase.AfterStep));
        Assert.False(strategy.ExchangesAt(32, SyncPhase.AfterStep));
    }

    [Fact]
    public void CheckPeriods_UnknownStateOrZero_IsExplained()
    {
        ISyncStrategy diloco = Create(new AlgorithmSpec { Type = AlgorithmType.DiLoCo });

        Assert.Contains("no 'params' period", diloco.CheckPeriods(new Dictionary<string, int> { ["params"] = 3 }));
        Assert.Contains("at least 1", diloco.CheckPeriods(new Dictionary<string, int> { ["outer"] = 0 }));
        Assert.Null(diloco.CheckPeriods(new Dictionary<string, int> { ["outer"] = 64 }));
    }

    [Fact]
    public void CheckPeriods_LocalAdamNeedsOnePeriod_DdpHasNone()
    {
        ISyncStrategy localAdam = Create(new AlgorithmSpec { Type = AlgorithmType.LocalAdam });
        ISyncStrategy ddp = Create(new AlgorithmSpec { Type = AlgorithmType.DDP });

        Assert.Contains("one period", localAdam.CheckPeriods(new Dictionary<string, int> { ["params"] = 3, ["m1"] = 6 }));
        Assert.NotNull(ddp.CheckPeriods(new Dictionary<string, int> { ["grads"] = 2 }));
    }

    [Fact]
    public void ExportThenImport_CarriesTheCurrentPeriods()
    {
        ISyncStrategy source = Create(new AlgorithmSpec { Type = AlgorithmType.DESLOC, Desloc = new() { Kx = 4 } });
        ISyncStrategy target = Create(new AlgorithmSpec { Type = AlgorithmType.DESLOC, Desloc = new() { Kx = 4 } });
        source.SetPeriods(new Dictionary<string, int> { ["params"] = 16 });
        var bundle = new DesLoc.Sync.State.StateBundle();

        source.ExportState(bundle);
        target.ImportState(bundle);

        Assert.Equal(16, target.Periods["params"]);
    }
}
