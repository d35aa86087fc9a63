using k8s;

namespace DesLoc.Operator.Kubernetes;

/// <summary>
/// Where a <see cref="ResourceCache{T}"/> reads its objects: one list (with the collection's resourceVersion) and
/// watches resumed from a resourceVersion. A watch reports an expired resourceVersion (HTTP 410 Gone) by throwing
/// an exception that <see cref="WatchErrors.IsGone"/> recognises or by yielding an <see cref="WatchEventType.Error"/>
/// event; the stream ends when the server closes it.
/// </summary>
public interface IResourceSource<T>
{
    Task<(IReadOnlyList<T> Items, string ResourceVersion)> ListAsync(CancellationToken cancellationToken);

    IAsyncEnumerable<(WatchEventType Type, T Object)> WatchAsync(string resourceVersion, CancellationToken cancellationToken);
}
