using Parameter = TorchSharp.Modules.Parameter;
using TorchSharp;
using static TorchSharp.torch;

namespace DesLoc.Sync.Torch;

/// <summary>
/// bf16 training with float32 master weights (TorchSharp 0.107 has no autocast): the model holds bfloat16 weights and
/// computes forward and backward in bfloat16, while float32 copies of its weights, with float32 gradients, are what
/// <see cref="SyncableAdamW"/> steps, <see cref="TorchReplica"/> exposes to the sync algorithms, and heal and checkpoints
/// carry. Small updates thus accumulate in float32 instead of vanishing under bfloat16's 8-bit mantissa.
/// </summary>
public sealed class MasterWeights : IDisposable
{
    private readonly Parameter[] _model;
    private readonly Parameter[] _master;

    /// <summary>Takes float32 copies of <paramref name="model"/>'s weights, then turns the model to bfloat16.</summary>
    public MasterWeights(nn.Module model)
    {
        using (no_grad())
        {
            _master = [.. model.parameters().Select(p =>
            {
                var master = new Parameter(p.detach().to(ScalarType.Float32, copy: true).DetachFromDisposeScope());
                master.grad = zeros_like(master).DetachFromDisposeScope();
                return master;
            })];
        }

        model.to(ScalarType.BFloat16);
        _model = [.. model.parameters()];
    }

    /// <summary>The float32 master weights: what the optimizer steps and the replicas sync.</summary>
    public IReadOnlyList<Parameter> Parameters => _master;

    /// <summary>Sets the model's bfloat16 weights from the master weights (rounded to nearest even), before a forward pass.</summary>
    public void CopyToModel()
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        for (int i = 0; i < _model.Length; i++)
        {
            _model[i].copy_(_master[i]);
        }
    }

    /// <summary>Adds the model's bfloat16 gradients to the master gradients in float32 and clears the model's, after a backward pass.</summary>
    public void AccumulateGradients()
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        for (int i = 0; i < _model.Length; i++)
        {
            Tensor? grad = _model[i].grad;
            if (grad is null)
            {
                continue;
            }

            _master[i].grad!.add_(grad);
            grad.zero_();
        }
    }

    public void Dispose()
    {
        foreach (Parameter master in _master)
        {
            master.Dispose();
        }
    }
}
