using DesLoc.Sync.Accounting;

namespace DesLoc.Sync.Algorithms;

/// <summary>
/// A replica's synchronisable state as flat float32 vectors, in one fixed parameter order. The strategies
/// only ever see this view; the TorchSharp seam (<c>Torch/TorchReplica</c>) implements it. Copies are
/// synchronous and complete before any exchange starts, so no await crosses a dispose scope.
/// </summary>
public interface IReplicaState
{
    /// <summary>Number of float32 values in each state vector.</summary>
    int ParameterCount { get; }

    /// <summary>Copies a state vector (<see cref="StateKind.Params"/>, <see cref="StateKind.Grads"/>, <see cref="StateKind.M1"/> or <see cref="StateKind.M2"/>) out.</summary>
    void CopyTo(StateKind kind, Span<float> destination);

    /// <summary>Overwrites a state vector.</summary>
    void CopyFrom(StateKind kind, ReadOnlySpan<float> source);
}
