using Parameter = TorchSharp.Modules.Parameter;
using TorchSharp;
using static TorchSharp.torch;

namespace DesLoc.Sync.Torch;

/// <summary>
/// AdamW (decoupled weight decay, bias-corrected) whose moments and update count are first-class state.
/// TorchSharp's own AdamW keeps its moments in a private per-parameter state; DES-LOC, Local Adam and heal
/// must read, average and overwrite them, and set the update count that bias correction uses, so the
/// optimizer owns them here as plain tensors. The update is PyTorch's AdamW, in place under no_grad.
/// </summary>
public sealed class SyncableAdamW : IDisposable
{
    private readonly Parameter[] _parameters;
    private readonly Tensor[] _firstMoments;
    private readonly Tensor[] _secondMoments;
    private readonly AdamWSettings _settings;

    public SyncableAdamW(IEnumerable<Parameter> parameters, AdamWSettings settings)
    {
        _parameters = parameters.ToArray();
        _settings = settings;
        using (no_grad())
        {
            _firstMoments = _parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
            _secondMoments = _parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
        }
    }

    public IReadOnlyList<Parameter> Parameters => _parameters;

    public IReadOnlyList<Tensor> FirstMoments => _firstMoments;

    public IReadOnlyList<Tensor> SecondMoments => _secondMoments;

    /// <summary>Updates applied so far; bias correction uses it. Same on every replica that steps every step.</summary>
    public long UpdateCount { get; set; }

    public void ZeroGrad()
    {
        foreach (Parameter parameter in _parameters)
        {
            using Tensor? grad = parameter.grad;
            grad?.zero_();
        }
    }

    /// <summary>Clips the global gradient norm to <paramref name="maxNorm"/> (no-op when it is 0) and returns the norm before clipping.</summary>
    public double ClipGradNorm(double maxNorm) =>
        maxNorm > 0 ? nn.utils.clip_grad_norm_(_parameters, maxNorm) : double.NaN;

    public void Step(double learningRate)
    {
        UpdateCount++;
        double beta1 = _settings.Beta1;
        double beta2 = _settings.Beta2;
        double biasCorrection1 = 1 - System.Math.Pow(beta1, UpdateCount);
        double biasCorrection2 = 1 - System.Math.Pow(beta2, UpdateCount);
        double stepSize = learningRate / biasCorrection1;
        double sqrtBiasCorrection2 = System.Math.Sqrt(biasCorrection2);

        // Scalars held in usings stay alive through every native call that reads them (see Scalars).
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using Scalar decay = (1 - learningRate * _settings.WeightDecay).ToScalar();
        using Scalar firstDecay = beta1.ToScalar();
        using Scalar firstWeight = (1 - beta1).ToScalar();
        using Scalar secondDecay = beta2.ToScalar();
        using Scalar secondWeight = (1 - beta2).ToScalar();
        using Scalar correction = sqrtBiasCorrection2.ToScalar();
        using Scalar epsilon = _settings.Epsilon.ToScalar();
        using Scalar step = (-stepSize).ToScalar();
        for (int i = 0; i < _parameters.Length; i++)
        {
            Parameter parameter = _parameters[i];
            Tensor? grad = parameter.grad;
            if (grad is null)
            {
                continue;
            }

            parameter.mul_(decay);
            _firstMoments[i].mul_(firstDecay).add_(grad, alpha: firstWeight);
            _secondMoments[i].mul_(secondDecay).addcmul_(grad, grad, value: secondWeight);
            Tensor denominator = _secondMoments[i].sqrt().div_(correction).add_(epsilon, Scalars.One);
            parameter.addcdiv_(_firstMoments[i], denominator, value: step);
        }
    }

    public void Dispose()
    {
        foreach (Tensor moment in _firstMoments.Concat(_secondMoments))
        {
            moment.Dispose();
        }
    }
}
