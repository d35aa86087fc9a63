using DesLoc.Sync.Accounting;
using DesLoc.Trainer.Tests.Training;

namespace DesLoc.Trainer.Tests.Precision;

/// <summary>training.precision bf16 learns, and sync.compression bf16 sends half the bytes of every kind of state.</summary>
[Collection("TorchSharp")]
public sealed class Bf16TrainingTests
{
    [Theory]
    [InlineData(ModelSpec.Gpt)]
    [InlineData(ModelSpec.Llama)]
    public async Task Bf16Precision_LossFallsIn30Steps_MasterStateStaysFloat32AndFinite(string type)
    {
        var (untrained, _) = await TinyJobs.RunAsync(Job(type, steps: 1));
        var (trained, parameters) = await TinyJobs.RunAsync(Job(type, steps: 30));

        Assert.InRange(untrained.MeanEvalLoss, Math.Log(16) - 0.05, Math.Log(16) + 0.05);
        Assert.InRange(trained.MeanEvalLoss, trained.EntropyFloor!.Value, untrained.MeanEvalLoss - 0.1);
        Assert.All(parameters, p => Assert.All(p, v => Assert.True(float.IsFinite(v))));
        // The master weights are float32: the two local steps since the last sync (step 28, in bf16 as compression follows
        // the precision) leave bits below bf16's mantissa.
        Assert.Contains(parameters[0], v => BitConverter.SingleToUInt32Bits(v) % 0x10000 != 0);
    }

    public static TheoryData<AlgorithmType, int> Jobs => new()
    {
        { AlgorithmType.DESLOC, 1 },
        { AlgorithmType.DiLoCo, 2 },
    };

    [Theory]
    [MemberData(nameof(Jobs))]
    public async Task Bf16Compression_SendsExactlyHalfTheWireBytesOfEachKind_DdpBaselineStaysFloat32(AlgorithmType algorithm, int workersPerReplica)
    {
        JobSpec spec = TinyJobs.Spec(new AlgorithmSpec { Type = algorithm, Desloc = new() { Kx = 2, Ku = 4, Kv = 6 }, Diloco = new() { Period = 3 } }, steps: 12, replicas: 3)
            with { WorkersPerReplica = workersPerReplica };
        var (plain, _) = await TinyJobs.RunAsync(spec with { Sync = new SyncSpec { Compression = SyncSpec.NoCompression } });
        var (halved, _) = await TinyJobs.RunAsync(spec with { Sync = new SyncSpec { Compression = SyncSpec.Bf16Compression } });

        for (int worker = 0; worker < plain.Ledgers.Count; worker++)
        {
            LedgerSnapshot full = plain.Ledgers[worker];
            LedgerSnapshot half = halved.Ledgers[worker];
            Assert.True(full.TotalWireBytes > 0);
            foreach (StateKind kind in Enum.GetValues<StateKind>())
            {
                Assert.Equal(full.WireBytes[kind], 2 * half.WireBytes[kind]);
                Assert.Equal(full.PayloadBytes[kind], half.PayloadBytes[kind]);
                Assert.Equal(full.IntraWireBytes[kind], half.IntraWireBytes[kind]);   // the fast tier stays float32
            }

            Assert.Equal(full.DdpEquivalentWireBytes, half.DdpEquivalentWireBytes);
            Assert.Equal(2 * full.ReductionVsDdp, half.ReductionVsDdp, 9);
        }
    }

    private static JobSpec Job(string type, int steps)
    {
        JobSpec tiny = TinyJobs.Spec(new AlgorithmSpec { Type = AlgorithmType.DESLOC, Desloc = new() { Kx = 7 } }, steps, replicas: 2);
        return tiny with
        {
            Model = tiny.Model with { Type = type },
            Training = tiny.Training with { Precision = TrainingSpec.Bf16 },
        };
    }
}
