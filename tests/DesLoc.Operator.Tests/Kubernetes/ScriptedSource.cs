using System.Runtime.CompilerServices;
using System.Threading.Channels;
using DesLoc.Operator.Kubernetes;
using k8s;

namespace DesLoc.Operator.Tests.Kubernetes;

/// <summary>
/// A test double of a resource source (not of the client): lists return <see cref="Items"/> at
/// <see cref="ListVersion"/> (or throw what <see cref="FailNextLists"/> holds), synchronously; each watch is a stream
/// the test opens with <see cref="NextWatchAsync"/> and then feeds, ends or fails.
/// </summary>
internal sealed class ScriptedSource<T> : IResourceSource<T>
{
    private readonly Channel<Channel<(WatchEventType, T)>> _watches = Channel.CreateUnbounded<Channel<(WatchEventType, T)>>();
    private readonly Channel<string> _watchedFrom = Channel.CreateUnbounded<string>();
    private int _lists;

    public List<T> Items { get; set; } = [];

    public string ListVersion { get; set; } = "1";

    public Queue<Exception> FailNextLists { get; } = new();

    public int Lists => Volatile.Read(ref _lists);

    public Task<(IReadOnlyList<T> Items, string ResourceVersion)> ListAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _lists);
        return FailNextLists.TryDequeue(out var failure)
            ? Task.FromException<(IReadOnlyList<T>, string)>(failure)
            : Task.FromResult<(IReadOnlyList<T>, string)>(([.. Items], ListVersion));
    }

    public async IAsyncEnumerable<(WatchEventType Type, T Object)> WatchAsync(
        string resourceVersion, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var stream = Channel.CreateUnbounded<(WatchEventType, T)>();
        await _watchedFrom.Writer.WriteAsync(resourceVersion, cancellationToken);
        await _watches.Writer.WriteAsync(stream, cancellationToken);
        await foreach (var change in stream.Reader.ReadAllAsync(cancellationToken))
        {
            yield return change;
        }
    }

    /// <summary>Waits for the cache to open its next watch; returns the resourceVersion it asked for and the stream.</summary>
    public async Task<(string From, ChannelWriter<(WatchEventType, T)> Stream)> NextWatchAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var from = await _watchedFrom.Reader.ReadAsync(timeout.Token);
        var stream = await _watches.Reader.ReadAsync(timeout.Token);
        return (from, stream.Writer);
    }
}
