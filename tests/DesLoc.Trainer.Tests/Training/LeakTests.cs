using DesLoc.Trainer.Data;
using DesLoc.Trainer.Training;
using DesLoc.Transport.Collectives;
using TorchSharp;
using static TorchSharp.torch;

namespace DesLoc.Trainer.Tests.Training;

[Collection("TorchSharp")]
public sealed class LeakTests
{
    [Theory]
    [InlineData(AlgorithmType.DESLOC)]
    [InlineData(AlgorithmType.DCTMomentum)]
    [InlineData(AlgorithmType.PALSGD)]
    public void Training_StepsAndSyncRounds_ReturnLiveTensorsToBaseline(AlgorithmType type)
    {
        var spec = TinyJobs.Spec(new AlgorithmSpec
        {
            Type = type,
            Desloc = new() { Kx = 2 },
            Dct = new() { Period = 2 },
            Palsgd = new() { Period = 2, Probability = 0.3, Eta = 0.5 },
            DdpWarmupSteps = type == AlgorithmType.PALSGD ? 2 : 0,
        }, steps: 12, replicas: 1);
        ITokenSource data = TokenSources.Create(spec);
        using var replica = new ReplicaTrainer(spec, data, new InMemoryCollectiveGroup(1)[0], CPU);
        long baseline = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        // One replica: every collective call completes synchronously, so all tensor work stays on this thread.
        Task run = replica.RunAsync(CancellationToken.None);
        Assert.True(run.IsCompletedSuccessfully);
        replica.Evaluate();

        Assert.Equal(12, replica.Step);
        Assert.Equal(baseline, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
