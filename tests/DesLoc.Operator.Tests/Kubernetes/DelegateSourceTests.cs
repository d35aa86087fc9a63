using System.Runtime.CompilerServices;
using System.Text.Json;
using DesLoc.Operator.Kubernetes;
using k8s;
using k8s.Models;

namespace DesLoc.Operator.Tests.Kubernetes;

/// <summary>How errors the client hands to a watch's onError callback come out of our source.</summary>
public sealed class DelegateSourceTests
{
    [Fact]
    public async Task A_410_status_reported_through_on_error_ends_the_watch_with_resource_gone()
    {
        var source = Source(new KubernetesException(new V1Status { Code = 410, Reason = "Expired" }));

        var seen = new List<string>();
        var thrown = await Assert.ThrowsAsync<ResourceGoneException>(async () =>
        {
            await foreach (var (_, pod) in source.WatchAsync("5", CancellationToken.None))
            {
                seen.Add(pod.Name());
            }
        });

        Assert.Equal(["before"], seen);
        Assert.IsType<KubernetesException>(thrown.InnerException);
        Assert.True(WatchErrors.IsGone(thrown));
    }

    [Fact]
    public async Task Another_error_reported_through_on_error_is_rethrown_as_is()
    {
        var source = Source(new JsonException("bad line"));

        await Assert.ThrowsAsync<JsonException>(async () =>
        {
            await foreach (var _ in source.WatchAsync("5", CancellationToken.None))
            {
            }
        });
    }

    [Fact]
    public void Gone_is_recognised_in_each_shape_and_nothing_else_is()
    {
        Assert.True(WatchErrors.IsGone(new ResourceGoneException()));
        Assert.True(WatchErrors.IsGone(new KubernetesException(new V1Status { Code = 410 })));
        Assert.True(WatchErrors.IsGone(new InvalidOperationException("wrapped", new ResourceGoneException())));
        Assert.False(WatchErrors.IsGone(new KubernetesException(new V1Status { Code = 500 })));
        Assert.False(WatchErrors.IsGone(new HttpRequestException("refused")));
    }

    /// <summary>A watch that yields one pod, reports <paramref name="error"/> as the client does, then ends.</summary>
    private static DelegateSource<V1Pod> Source(Exception error) => new(
        _ => Task.FromResult<(IReadOnlyList<V1Pod>, string)>(([], "1")),
        (_, onError, ct) => Stream(onError, error, ct));

    private static async IAsyncEnumerable<(WatchEventType, V1Pod)> Stream(
        Action<Exception> onError, Exception error, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        yield return (WatchEventType.Added, new V1Pod { Metadata = new V1ObjectMeta { Name = "before" } });
        await Task.Yield();
        onError(error);
        cancellationToken.ThrowIfCancellationRequested();
        yield return (WatchEventType.Added, new V1Pod { Metadata = new V1ObjectMeta { Name = "after" } });
    }
}
