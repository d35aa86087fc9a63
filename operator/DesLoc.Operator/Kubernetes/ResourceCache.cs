using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DesLoc.Operator.Kubernetes;

/// <summary>
/// An informer: lists, then watches forever from the last resourceVersion (which every event, bookmarks included,
/// advances), watches again when a stream ends, lists again on 410 Gone and delivers the differences (deletes for
/// objects that vanished), re-delivers every object each resync period, and retries failed calls with jittered
/// exponential backoff, logging one warning per failure streak.
/// Keeps an index of objects by their controller owner's uid.
/// </summary>
public sealed class ResourceCache<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, T> _objects = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _byOwner = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly IResourceSource<T> _source;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly TimeSpan? _resyncPeriod;
    private readonly TimeSpan _retryBase;
    private readonly TimeSpan _retryCap;
    private readonly Func<double>? _random;
    private readonly string _kind = typeof(T).Name;
    private string? _resourceVersion;

    /// <param name="source">Where the objects are listed and watched.</param>
    /// <param name="logger">Where list and watch failures are logged.</param>
    /// <param name="time">The clock for resyncs and retry backoff; the system clock when null.</param>
    /// <param name="resyncPeriod">How often every cached object is delivered again; never when null.</param>
    /// <param name="retryBase">The first retry's delay after a failed list or watch (1 s when null), doubling.</param>
    /// <param name="retryCap">The retry delay's cap (30 s when null).</param>
    /// <param name="random">Draws the retry delay's jitter, 0..1 (<see cref="Random.Shared"/> when null).</param>
    public ResourceCache(
        IResourceSource<T> source,
        ILogger? logger = null,
        TimeProvider? time = null,
        TimeSpan? resyncPeriod = null,
        TimeSpan? retryBase = null,
        TimeSpan? retryCap = null,
        Func<double>? random = null)
    {
        _source = source;
        _logger = logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _resyncPeriod = resyncPeriod;
        _retryBase = retryBase ?? TimeSpan.FromSeconds(1);
        _retryCap = retryCap ?? TimeSpan.FromSeconds(30);
        _random = random;
        if (resyncPeriod is { } period)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(period, TimeSpan.Zero, nameof(resyncPeriod));
        }
    }

    /// <summary>
    /// Raised for every add, update, delete and resync, in order, under the cache's lock: handlers must be quick
    /// (turn the change into work-queue keys) and may read the cache.
    /// </summary>
    public event Action<ResourceChange<T>>? Changed;

    /// <summary>True once the first list has been stored.</summary>
    public bool HasSynced => _synced.Task.IsCompleted;

    /// <summary>The resourceVersion the next watch resumes from; null before the first list or after a 410.</summary>
    public string? ResourceVersion
    {
        get
        {
            lock (_gate)
            {
                return _resourceVersion;
            }
        }
    }

    public Task WaitForSyncAsync(CancellationToken cancellationToken) => _synced.Task.WaitAsync(cancellationToken);

    public T? Get(string? @namespace, string name)
    {
        lock (_gate)
        {
            return _objects.GetValueOrDefault(ObjectKey.Of(@namespace, name));
        }
    }

    /// <summary>Every cached object, or those of one namespace.</summary>
    public IReadOnlyList<T> List(string? @namespace = null)
    {
        lock (_gate)
        {
            return @namespace is null
                ? [.. _objects.Values]
                : [.. _objects.Values.Where(o => o.Metadata?.NamespaceProperty == @namespace)];
        }
    }

    /// <summary>The cached objects whose controller ownerReference has <paramref name="ownerUid"/>.</summary>
    public IReadOnlyList<T> ByOwner(string ownerUid)
    {
        lock (_gate)
        {
            return _byOwner.TryGetValue(ownerUid, out var keys) ? [.. keys.Select(k => _objects[k])] : [];
        }
    }

    /// <summary>Lists and watches until <paramref name="cancellationToken"/> is cancelled, then returns.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var resync = _resyncPeriod is { } period ? ResyncLoopAsync(period, stop.Token) : Task.CompletedTask;
        try
        {
            await ListAndWatchAsync(stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await resync.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private async Task ListAndWatchAsync(CancellationToken cancellationToken)
    {
        var streak = new RetryStreak(_retryBase, _retryCap, _random);
        var warned = false; // empty watch streams count towards the backoff quietly; the first error still warns
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var from = ResourceVersion;
            try
            {
                if (from is null)
                {
                    var (items, version) = await _source.ListAsync(cancellationToken).ConfigureAwait(false);
                    Replace(items, version);
                    _logger.Listed(items.Count, _kind, version);
                    from = version;
                    warned = Recovered(streak, warned);
                }

                if (await WatchOnceAsync(from, cancellationToken).ConfigureAwait(false))
                {
                    warned = Recovered(streak, warned);
                    continue;
                }

                // The stream ended empty (server timeout or a dropped connection): watch again from where it stopped,
                // after a quiet backoff, so a server that closes at once is not hammered.
                await Task.Delay(streak.Failed().Delay, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && WatchErrors.IsGone(e))
            {
                _logger.WatchExpired(_kind, from ?? "");
                lock (_gate)
                {
                    _resourceVersion = null;
                }
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                var (failures, delay) = streak.Failed();
                if (!warned)
                {
                    warned = true;
                    _logger.ListWatchFailing(_kind, RetryStreak.Reason(e), delay);
                }
                else if (_logger.IsEnabled(LogLevel.Debug))
                {
                    _logger.ListWatchStillFailing(_kind, failures, RetryStreak.Reason(e), delay);
                }

                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Ends a failure streak, saying so once if it was warned of; returns the new "warned" (false).</summary>
    private bool Recovered(RetryStreak streak, bool warned)
    {
        if (streak.Succeeded() is var failures && warned)
        {
            _logger.ListWatchRecovered(_kind, failures);
        }

        return false;
    }

    /// <summary>Applies one watch stream until it ends; true when it delivered at least one event.</summary>
    private async Task<bool> WatchOnceAsync(string from, CancellationToken cancellationToken)
    {
        var delivered = false;
        await foreach (var (type, obj) in _source.WatchAsync(from, cancellationToken).ConfigureAwait(false))
        {
            delivered = true;
            if (type == WatchEventType.Error)
            {
                // Reached only when the client yields the ERROR event instead of raising it: its object is a Status
                // (most often 410), not a T, so the only safe move is a fresh list.
                throw new ResourceGoneException($"The watch of {_kind} from resourceVersion {from} reported an error.");
            }

            lock (_gate)
            {
                switch (type)
                {
                    case WatchEventType.Added:
                    case WatchEventType.Modified:
                        Upsert(obj);
                        break;
                    case WatchEventType.Deleted:
                        Remove(ObjectKey.Of(obj), obj);
                        break;
                }

                if (obj.Metadata?.ResourceVersion is { Length: > 0 } version)
                {
                    _resourceVersion = version;
                }
            }
        }

        return delivered;
    }

    private async Task ResyncLoopAsync(TimeSpan period, CancellationToken cancellationToken)
    {
        while (true)
        {
            await Task.Delay(period, _time, cancellationToken).ConfigureAwait(false);
            lock (_gate)
            {
                foreach (var obj in _objects.Values.ToList())
                {
                    Notify(obj, obj);
                }
            }
        }
    }

    /// <summary>Stores a fresh list, delivering adds, changes (by resourceVersion) and deletes of what vanished.</summary>
    private void Replace(IReadOnlyList<T> items, string version)
    {
        lock (_gate)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var item in items)
            {
                seen.Add(ObjectKey.Of(item));
                Upsert(item);
            }

            foreach (var (key, old) in _objects.Where(p => !seen.Contains(p.Key)).ToList())
            {
                Remove(key, old);
            }

            _resourceVersion = version;
        }

        _synced.TrySetResult();
    }

    private void Upsert(T obj)
    {
        var key = ObjectKey.Of(obj);
        var old = _objects.GetValueOrDefault(key);
        if (old is not null && old.Metadata?.ResourceVersion is { Length: > 0 } oldVersion
            && oldVersion == obj.Metadata?.ResourceVersion)
        {
            // A re-list returns objects the cache already holds: only real differences are delivered.
            return;
        }

        if (old is not null)
        {
            Unindex(key, old);
        }

        _objects[key] = obj;
        Index(key, obj);
        Notify(old, obj);
    }

    private void Remove(string key, T last)
    {
        if (!_objects.Remove(key, out var old))
        {
            return;
        }

        Unindex(key, old);
        // A watch delete carries the final state; a re-list only knows the cached one and passes that.
        Notify(last, null);
    }

    private void Index(string key, T obj)
    {
        if (ControllerUid(obj) is { } owner)
        {
            if (!_byOwner.TryGetValue(owner, out var keys))
            {
                _byOwner[owner] = keys = new HashSet<string>(StringComparer.Ordinal);
            }

            keys.Add(key);
        }
    }

    private void Unindex(string key, T obj)
    {
        if (ControllerUid(obj) is { } owner && _byOwner.TryGetValue(owner, out var keys))
        {
            keys.Remove(key);
            if (keys.Count == 0)
            {
                _byOwner.Remove(owner);
            }
        }
    }

    private static string? ControllerUid(T obj) =>
        obj.Metadata?.OwnerReferences?.FirstOrDefault(r => r.Controller == true)?.Uid;

    private void Notify(T? old, T? current)
    {
        try
        {
            Changed?.Invoke(new ResourceChange<T>(old, current));
        }
        catch (Exception e)
        {
            // One handler's bug must not stop the informer.
            _logger.HandlerFailed(e, _kind);
        }
    }
}
