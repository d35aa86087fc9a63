using DesLoc.Sync.Accounting;
using DesLoc.Sync.Algorithms;

namespace DesLoc.Sync.Tests.Algorithms;

/// <summary>A replica whose state is plain arrays, so strategies can be run without TorchSharp.</summary>
internal sealed class ArrayReplica(int parameterCount) : IReplicaState
{
    private readonly Dictionary<StateKind, float[]> _state = new()
    {
        [StateKind.Params] = new float[parameterCount],
        [StateKind.Grads] = new float[parameterCount],
        [StateKind.M1] = new float[parameterCount],
        [StateKind.M2] = new float[parameterCount],
    };

    public int ParameterCount => parameterCount;

    public float[] this[StateKind kind] => _state[kind];

    public void CopyTo(StateKind kind, Span<float> destination) => _state[kind].CopyTo(destination);

    public void CopyFrom(StateKind kind, ReadOnlySpan<float> source) => source.CopyTo(_state[kind]);
}
