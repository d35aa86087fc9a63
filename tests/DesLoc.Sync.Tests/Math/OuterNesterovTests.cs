using DesLoc.Sync.Math;

namespace DesLoc.Sync.Tests.Math;

public sealed class OuterNesterovTests
{
    [Fact]
    public void Step_LearningRateOneNoMomentum_AnchorBecomesTheAveragedParameters()
    {
        var outer = new OuterNesterov(2, learningRate: 1, momentum: 0);
        outer.Anchor[0] = 1f;
        outer.Anchor[1] = -2f;
        float[] meanParameters = [0.25f, 4f];
        float[] delta = new float[2];

        outer.PseudoGradient(meanParameters, delta);
        outer.Step(delta);

        Assert.Equal(meanParameters, outer.Anchor);
    }

    [Fact]
    public void Step_TwoRounds_MatchesPyTorchNesterovSgd()
    {
        var outer = new OuterNesterov(1, learningRate: 0.7, momentum: 0.9);
        outer.Anchor[0] = 1f;

        outer.Step([0.5f]);   // b = 0.5;          anchor = 1 - 0.7*(0.5 + 0.45)    = 0.335
        outer.Step([0.1f]);   // b = 0.45 + 0.1;   anchor = 0.335 - 0.7*(0.1 + 0.495) = -0.0815

        Assert.Equal(0.55f, outer.MomentumBuffer[0], 1e-6f);
        Assert.Equal(-0.0815f, outer.Anchor[0], 1e-6f);
    }
}
