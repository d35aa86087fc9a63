using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using k8s;

namespace DesLoc.Operator.Kubernetes;

/// <summary>
/// An <see cref="IResourceSource{T}"/> over the client's list and watch calls. The client hands a watch's ERROR
/// event (a Status, 410 Gone among them) and any line it could not parse to the <c>onError</c> callback as an
/// exception and goes on reading; the server then closes the stream. This source stops at the first such
/// exception and throws it (a 410 as <see cref="ResourceGoneException"/>), so no failure passes silently.
/// </summary>
internal sealed class DelegateSource<T>(
    Func<CancellationToken, Task<(IReadOnlyList<T> Items, string ResourceVersion)>> list,
    Func<string, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType Type, T Object)>> watch)
    : IResourceSource<T>
{
    public Task<(IReadOnlyList<T> Items, string ResourceVersion)> ListAsync(CancellationToken cancellationToken) =>
        list(cancellationToken);

    public async IAsyncEnumerable<(WatchEventType Type, T Object)> WatchAsync(
        string resourceVersion, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Exception? error = null;
        await foreach (var change in watch(resourceVersion, e => error ??= e, cancellationToken).ConfigureAwait(false))
        {
            if (error is not null)
            {
                break;
            }

            yield return change;
        }

        if (error is not null)
        {
            if (WatchErrors.IsGone(error))
            {
                throw new ResourceGoneException($"The watch from resourceVersion {resourceVersion} expired.", error);
            }

            ExceptionDispatchInfo.Throw(error);
        }
    }
}
