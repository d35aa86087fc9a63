namespace DesLoc.Operator.Kubernetes;

/// <summary>
/// One change a <see cref="ResourceCache{T}"/> delivers: an add (<see cref="Old"/> null), an update (both set; the
/// same object on a resync), or a delete (<see cref="New"/> null, <see cref="Old"/> the last state known).
/// </summary>
public readonly record struct ResourceChange<T>(T? Old, T? New)
    where T : class
{
    /// <summary>The object the change is about: the new state, or the deleted one.</summary>
    public T Latest => New ?? Old ?? throw new InvalidOperationException("A change has an old or a new object.");
}
