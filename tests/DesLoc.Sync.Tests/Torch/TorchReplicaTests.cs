using DesLoc.Sync.Accounting;
using DesLoc.Sync.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace DesLoc.Sync.Tests.Torch;

[Collection("TorchSharp")]
public sealed class TorchReplicaTests
{
    [Fact]
    public void CopyTo_FlattensParametersInParameterOrder()
    {
        using var layer = nn.Linear(3, 2);
        using var optimizer = new SyncableAdamW(layer.parameters(), new AdamWSettings());
        var replica = new TorchReplica(optimizer);
        float[] flat = new float[replica.ParameterCount];

        replica.CopyTo(StateKind.Params, flat);

        Assert.Equal(8, replica.ParameterCount);
        Assert.Equal(layer.weight!.data<float>().ToArray(), flat[..6]);
        Assert.Equal(layer.bias!.data<float>().ToArray(), flat[6..]);
    }

    [Theory]
    [InlineData(StateKind.Params)]
    [InlineData(StateKind.M1)]
    [InlineData(StateKind.M2)]
    public void CopyFromThenCopyTo_RoundTripsEveryState(StateKind kind)
    {
        using var layer = nn.Linear(3, 2);
        using var optimizer = new SyncableAdamW(layer.parameters(), new AdamWSettings());
        var replica = new TorchReplica(optimizer);
        float[] written = Enumerable.Range(0, 8).Select(i => i * 0.5f - 1).ToArray();
        float[] read = new float[8];

        replica.CopyFrom(kind, written);
        replica.CopyTo(kind, read);

        Assert.Equal(written, read);
    }

    [Fact]
    public void CopyFrom_Gradients_ChangesTheNextOptimizerStep()
    {
        using var layer = nn.Linear(1, 1, hasBias: false);
        using var optimizer = new SyncableAdamW(layer.parameters(), new AdamWSettings(WeightDecay: 0));
        var replica = new TorchReplica(optimizer);
        using (var scope = NewDisposeScope())
        {
            layer.call(ones(1)).sum().backward();
        }

        float before = layer.weight!.data<float>()[0];
        replica.CopyFrom(StateKind.Grads, [-2f]);
        optimizer.Step(0.1);

        // Adam's first step moves each weight by lr·sign(grad): a negative gradient raises it.
        Assert.Equal(before + 0.1f, layer.weight!.data<float>()[0], 1e-5f);
    }

    [Fact]
    public void CopyTo_WrongBufferLength_Throws()
    {
        using var layer = nn.Linear(3, 2);
        using var optimizer = new SyncableAdamW(layer.parameters(), new AdamWSettings());

        Assert.Throws<ArgumentException>(() => new TorchReplica(optimizer).CopyTo(StateKind.Params, new float[7]));
    }

    [Fact]
    public void CopyAndStep_ManyTimes_LeaveNoLiveTensorsBehind()
    {
        using var layer = nn.Linear(8, 4);
        using var optimizer = new SyncableAdamW(layer.parameters(), new AdamWSettings());
        var replica = new TorchReplica(optimizer);
        float[] buffer = new float[replica.ParameterCount];
        using var input = ones(2, 8);
        void Round()
        {
            using (var scope = NewDisposeScope())
            {
                optimizer.ZeroGrad();
                layer.call(input).sum().backward();
            }

            replica.CopyTo(StateKind.Grads, buffer);
            replica.CopyFrom(StateKind.Grads, buffer);
            optimizer.Step(0.01);
            replica.CopyTo(StateKind.Params, buffer);
            replica.CopyFrom(StateKind.Params, buffer);
            replica.CopyTo(StateKind.M2, buffer);
            replica.CopyFrom(StateKind.M2, buffer);
        }

        Round();
        long baseline = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 20; i++)
        {
            Round();
        }

        Assert.Equal(baseline, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
