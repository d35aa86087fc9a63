using DesLoc.Sync.State;
using DesLoc.Trainer.Checkpoints;

namespace DesLoc.Trainer.Tests.Checkpoints;

public sealed class CheckpointStoreTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("desloc-ckpt-").FullName;
    private readonly List<string> _warnings = [];

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private CheckpointStore Store(int keep = 3) => new(_directory, keep, _warnings.Add);

    private static StateBundle At(long step)
    {
        var bundle = new StateBundle();
        bundle.SetLongs("ledger.steps", step);
        bundle.SetFloats("replica.params", [step, step + 0.5f]);
        return bundle;
    }

    [Fact]
    public void Save_KeepsOnlyTheNewestK_AndLeavesNoTempFiles()
    {
        CheckpointStore store = Store(keep: 2);

        foreach (long step in new long[] { 10, 20, 30 })
        {
            store.Save(step, At(step));
        }

        Assert.Equal([20L, 30L], store.ValidSteps());
        Assert.Equal(["manifest.json", "step-000000020.state", "step-000000030.state"], Directory.GetFiles(_directory).Select(Path.GetFileName).Order());
        Assert.Equal([30f, 30.5f], store.Load(30).Floats("replica.params"));
    }

    [Fact]
    public void TruncatedNewest_IsRefusedWithAMessage_AndThePreviousOneIsUsed()
    {
        CheckpointStore store = Store();
        store.Save(10, At(10));
        store.Save(20, At(20));
        string newest = Path.Combine(_directory, "step-000000020.state");
        byte[] bytes = File.ReadAllBytes(newest);
        File.WriteAllBytes(newest, bytes[..(bytes.Length / 2)]);

        // What a restart does: offer the steps that verify, then load the one the quorum picks.
        long step = store.ValidSteps().Max();
        StateBundle bundle = store.Load(step);

        Assert.Equal(10, step);
        Assert.Equal(10, bundle.Scalar("ledger.steps"));
        Assert.Equal([10L], store.ValidSteps());
        Assert.Contains(_warnings, w => w.Contains("step-000000020.state", StringComparison.Ordinal) && w.Contains("truncated or corrupt", StringComparison.Ordinal));
        Assert.Throws<InvalidDataException>(() => store.Load(20));
    }

    [Fact]
    public void CorruptedBytesOfTheSameLength_AreRefused()
    {
        CheckpointStore store = Store();
        store.Save(10, At(10));
        string file = Path.Combine(_directory, "step-000000010.state");
        byte[] bytes = File.ReadAllBytes(file);
        bytes[^40] ^= 0xFF;
        File.WriteAllBytes(file, bytes);

        Assert.Empty(store.ValidSteps());
        Assert.Throws<InvalidDataException>(() => store.Load(10));
    }

    [Fact]
    public void EmptyDirectory_HasNoCheckpoint() => Assert.Empty(Store().ValidSteps());
}
