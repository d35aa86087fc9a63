using DesLoc.Sync.Accounting;
using DesLoc.Sync.Algorithms;
using TorchSharp;
using static TorchSharp.torch;

namespace DesLoc.Sync.Torch;

/// <summary>
/// The one place where sync state meets tensors: parameters, gradients and AdamW moments, flattened in
/// parameter order into float32 spans and back. Each copy runs in its own dispose scope and completes before
/// any exchange starts. CUDA tensors go through a CPU staging copy (raw access needs CPU memory).
/// </summary>
public sealed class TorchReplica(SyncableAdamW optimizer) : IReplicaState
{
    public int ParameterCount { get; } = checked((int)optimizer.Parameters.Sum(p => p.numel()));

    /// <summary>Each parameter tensor's shape, in the order of the flat vectors (DCT momentum cuts its blocks per tensor).</summary>
    public IReadOnlyList<long[]> Shapes { get; } = [.. optimizer.Parameters.Select(p => p.shape)];

    public SyncableAdamW Optimizer => optimizer;

    public void CopyTo(StateKind kind, Span<float> destination)
    {
        RequireLength(destination.Length);
        using var scope = NewDisposeScope();
        int offset = 0;
        for (int i = 0; i < optimizer.Parameters.Count; i++)
        {
            Tensor tensor = Select(kind, i);
            int count = (int)tensor.numel();
            Tensor host = tensor.device_type == DeviceType.CPU ? tensor.contiguous() : tensor.cpu().contiguous();
            host.data<float>().CopyTo(destination.Slice(offset, count), 0, 0);
            offset += count;
        }
    }

    public void CopyFrom(StateKind kind, ReadOnlySpan<float> source)
    {
        RequireLength(source.Length);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        int offset = 0;
        for (int i = 0; i < optimizer.Parameters.Count; i++)
        {
            if (kind == StateKind.Grads && optimizer.Parameters[i].grad is null)
            {
                // A healed replica receives gradients before it has run a backward pass of its own.
                optimizer.Parameters[i].grad = zeros_like(optimizer.Parameters[i]).DetachFromDisposeScope();
            }

            Tensor tensor = Select(kind, i);
            int count = (int)tensor.numel();
            if (tensor.device_type == DeviceType.CPU && tensor.is_contiguous())
            {
                tensor.data<float>().CopyFrom(source.Slice(offset, count), 0, 0);
            }
            else
            {
                Tensor host = empty(tensor.shape, ScalarType.Float32);
                host.data<float>().CopyFrom(source.Slice(offset, count), 0, 0);
                tensor.copy_(host);
            }

            offset += count;
        }
    }

    private Tensor Select(StateKind kind, int index) => kind switch
    {
        StateKind.Params => optimizer.Parameters[index],
        StateKind.Grads => optimizer.Parameters[index].grad
            ?? throw new InvalidOperationException("Gradients were requested before a backward pass produced them."),
        StateKind.M1 => optimizer.FirstMoments[index],
        StateKind.M2 => optimizer.SecondMoments[index],
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not a per-parameter state vector."),
    };

    private void RequireLength(int length)
    {
        if (length != ParameterCount)
        {
            throw new ArgumentException($"State buffers hold {ParameterCount} values (got {length}).");
        }
    }
}
