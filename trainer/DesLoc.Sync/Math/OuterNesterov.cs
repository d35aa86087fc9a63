using System.Numerics.Tensors;
using DesLoc.Sync.State;

namespace DesLoc.Sync.Math;

/// <summary>
/// DiLoCo's outer optimizer: SGD with Nesterov momentum (PyTorch's <c>SGD(nesterov=True, dampening=0)</c>)
/// stepping the global model (the anchor) with the averaged pseudo-gradient:
/// <c>b = mu*b + delta; anchor -= lr*(delta + mu*b)</c>. With lr 1 and mu 0 this is plain parameter averaging.
/// </summary>
public sealed class OuterNesterov(int length, double learningRate, double momentum)
{
    private readonly float[] _momentum = new float[length];

    public float[] Anchor { get; } = new float[length];

    public float[] MomentumBuffer => _momentum;

    /// <summary>Writes the pseudo-gradient <c>anchor - parameters</c> into <paramref name="delta"/>.</summary>
    public void PseudoGradient(ReadOnlySpan<float> parameters, Span<float> delta) =>
        TensorPrimitives.Subtract(Anchor, parameters, delta);

    /// <summary>Applies one outer step with the (averaged) pseudo-gradient; the anchor becomes the new global model.</summary>
    public void Step(ReadOnlySpan<float> delta)
    {
        float mu = (float)momentum;
        float lr = (float)learningRate;
        TensorPrimitives.MultiplyAdd(_momentum, mu, delta, _momentum);   // b = mu*b + delta
        for (int i = 0; i < Anchor.Length; i++)
        {
            Anchor[i] -= lr * (delta[i] + mu * _momentum[i]);
        }
    }

    public void Export(StateBundle bundle)
    {
        bundle.SetFloats("outer.anchor", Anchor);
        bundle.SetFloats("outer.momentum", _momentum);
    }

    public void Import(StateBundle bundle)
    {
        float[] anchor = bundle.Floats("outer.anchor");
        float[] momentum = bundle.Floats("outer.momentum");
        if (anchor.Length != Anchor.Length || momentum.Length != _momentum.Length)
        {
            throw new InvalidDataException($"Outer optimizer state has {anchor.Length} values, this replica needs {Anchor.Length}.");
        }

        anchor.CopyTo(Anchor, 0);
        momentum.CopyTo(_momentum, 0);
    }
}
