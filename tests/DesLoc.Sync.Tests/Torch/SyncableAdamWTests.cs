using DesLoc.Sync.Torch;
using static TorchSharp.torch;

namespace DesLoc.Sync.Tests.Torch;

[Collection("TorchSharp")]
public sealed class SyncableAdamWTests
{
    [Fact]
    public void Step_TenUpdates_MatchesTorchSharpsAdamW()
    {
        random.manual_seed(3);
        using var ours = nn.Linear(6, 3);
        using var reference = nn.Linear(6, 3);
        reference.load_state_dict(ours.state_dict());
        using var optimizer = new SyncableAdamW(ours.parameters(), new AdamWSettings(0.9, 0.999, 1e-8, 0.1));
        var referenceOptimizer = optim.AdamW(reference.parameters(), lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.1);
        using Tensor initial = ours.weight!.detach().clone();

        for (int i = 0; i < 10; i++)
        {
            using var scope = NewDisposeScope();
            Tensor input = randn(4, 6);
            optimizer.ZeroGrad();
            ours.call(input).square().sum().backward();
            optimizer.Step(0.01);
            referenceOptimizer.zero_grad();
            reference.call(input).square().sum().backward();
            referenceOptimizer.step();
        }

        using var scope2 = NewDisposeScope();
        Assert.False(ours.weight!.allclose(initial, rtol: 0, atol: 1e-3));
        Assert.True(ours.weight!.allclose(reference.weight!, rtol: 1e-5, atol: 1e-6));
        Assert.True(ours.bias!.allclose(reference.bias!, rtol: 1e-5, atol: 1e-6));
        Assert.Equal(10, optimizer.UpdateCount);
    }

    [Fact]
    public void ClipGradNorm_LargeGradient_ScalesItToTheLimit()
    {
        using var layer = nn.Linear(2, 1, hasBias: false);
        using var optimizer = new SyncableAdamW(layer.parameters(), new AdamWSettings());
        using var scope = NewDisposeScope();
        layer.call(tensor(new float[] { 30, 40 })).sum().backward();

        double before = optimizer.ClipGradNorm(1.0);

        Assert.Equal(50, before, 3);
        Assert.Equal(1.0, layer.weight!.grad!.norm().item<float>(), 4);
    }
}
