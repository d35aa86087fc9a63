using System.Diagnostics.CodeAnalysis;

namespace DesLoc.Operator.Kubernetes;

/// <summary>
/// A controller work queue with client-go's semantics: a key is queued at most once, a key is never handed to two
/// workers at once (one added while it is processed is marked dirty and queued again on <see cref="Done"/>), delayed
/// adds run on an injected <see cref="TimeProvider"/>, and failures back off exponentially per key.
/// </summary>
[SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "client-go's name for it.")]
public sealed class WorkQueue<TKey> : IDisposable
    where TKey : notnull
{
    private readonly Lock _gate = new();
    private readonly Queue<TKey> _queue = new();
    // Keys that need processing: queued, or added again while being processed.
    private readonly HashSet<TKey> _dirty = [];
    private readonly HashSet<TKey> _processing = [];
    private readonly Dictionary<TKey, int> _failures = [];
    private readonly Dictionary<TKey, (DateTimeOffset Due, ITimer Timer)> _waiting = [];
    // One count per queued key, so a taker never spins; after shut down each woken taker wakes the next.
    private readonly SemaphoreSlim _available = new(0);
    private readonly TimeProvider _time;
    private readonly TimeSpan _baseDelay;
    private readonly TimeSpan _maxDelay;
    private bool _shuttingDown;

    /// <param name="time">The clock for delayed adds; the system clock when null.</param>
    /// <param name="baseDelay">The first failure's backoff (1 s when null); each further failure doubles it.</param>
    /// <param name="maxDelay">The backoff's cap (5 min when null).</param>
    public WorkQueue(TimeProvider? time = null, TimeSpan? baseDelay = null, TimeSpan? maxDelay = null)
    {
        _time = time ?? TimeProvider.System;
        _baseDelay = baseDelay ?? TimeSpan.FromSeconds(1);
        _maxDelay = maxDelay ?? TimeSpan.FromMinutes(5);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_baseDelay, TimeSpan.Zero, nameof(baseDelay));
        ArgumentOutOfRangeException.ThrowIfLessThan(_maxDelay, _baseDelay, nameof(maxDelay));
    }

    /// <summary>Keys queued and not yet taken.</summary>
    public int Depth
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count;
            }
        }
    }

    public bool IsShuttingDown
    {
        get
        {
            lock (_gate)
            {
                return _shuttingDown;
            }
        }
    }

    /// <summary>Queues <paramref name="key"/> unless it is already queued; ignored after <see cref="ShutDown"/>.</summary>
    public void Add(TKey key)
    {
        lock (_gate)
        {
            if (_shuttingDown || !_dirty.Add(key))
            {
                return;
            }

            if (_processing.Contains(key))
            {
                // Done() queues it again, so two workers never hold the same key.
                return;
            }

            _queue.Enqueue(key);
        }

        _available.Release();
    }

    /// <summary>Queues <paramref name="key"/> once <paramref name="delay"/> has passed; an earlier pending add wins.</summary>
    public void AddAfter(TKey key, TimeSpan delay)
    {
        if (delay <= TimeSpan.Zero)
        {
            Add(key);
            return;
        }

        lock (_gate)
        {
            if (_shuttingDown)
            {
                return;
            }

            var due = _time.GetUtcNow() + delay;
            if (_waiting.TryGetValue(key, out var pending))
            {
                if (pending.Due <= due)
                {
                    return;
                }

                pending.Timer.Dispose();
            }

            // A callback that fires at once blocks on _gate until the timer is recorded.
            var timer = _time.CreateTimer(_ => Fire(key, due), null, delay, Timeout.InfiniteTimeSpan);
            _waiting[key] = (due, timer);
        }
    }

    /// <summary>Queues <paramref name="key"/> after its backoff: base × 2^(failures), capped; counts one failure.</summary>
    public void AddRateLimited(TKey key)
    {
        TimeSpan delay;
        lock (_gate)
        {
            var failures = _failures.GetValueOrDefault(key);
            _failures[key] = failures + 1;
            delay = Backoff(failures);
        }

        AddAfter(key, delay);
    }

    /// <summary>The delay before the retry that follows <paramref name="failures"/> earlier failures.</summary>
    public TimeSpan Backoff(int failures) => Reconciliation.Backoff.Exponential(failures + 1, _baseDelay, _maxDelay);

    /// <summary>Resets the backoff of <paramref name="key"/> (call after it was processed successfully).</summary>
    public void Forget(TKey key)
    {
        lock (_gate)
        {
            _failures.Remove(key);
        }
    }

    /// <summary>How many times <paramref name="key"/> was added rate-limited since it was last forgotten.</summary>
    public int Failures(TKey key)
    {
        lock (_gate)
        {
            return _failures.GetValueOrDefault(key);
        }
    }

    /// <summary>
    /// Waits for a key and marks it as being processed until <see cref="Done"/>. After <see cref="ShutDown"/> the
    /// keys still queued are handed out, then it throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public async ValueTask<TKey> TakeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await _available.WaitAsync(cancellationToken).ConfigureAwait(false);
            lock (_gate)
            {
                if (_queue.TryDequeue(out var key))
                {
                    _dirty.Remove(key);
                    _processing.Add(key);
                    return key;
                }

                if (_shuttingDown)
                {
                    _available.Release();
                    throw new OperationCanceledException("The work queue is shut down.");
                }
            }
        }
    }

    /// <summary>Ends the processing of <paramref name="key"/>; if it was added meanwhile, it is queued again.</summary>
    public void Done(TKey key)
    {
        lock (_gate)
        {
            if (!_processing.Remove(key) || !_dirty.Contains(key))
            {
                return;
            }

            _queue.Enqueue(key);
        }

        _available.Release();
    }

    /// <summary>Stops accepting keys and pending delayed adds; takers drain what is queued, then stop.</summary>
    public void ShutDown()
    {
        lock (_gate)
        {
            if (_shuttingDown)
            {
                return;
            }

            _shuttingDown = true;
            foreach (var (_, timer) in _waiting.Values)
            {
                timer.Dispose();
            }

            _waiting.Clear();
        }

        _available.Release();
    }

    public void Dispose()
    {
        ShutDown();
        _available.Dispose();
    }

    private void Fire(TKey key, DateTimeOffset due)
    {
        lock (_gate)
        {
            // A later, earlier-due AddAfter replaced this timer: the newer one owns the key.
            if (!_waiting.TryGetValue(key, out var pending) || pending.Due != due)
            {
                return;
            }

            _waiting.Remove(key);
            pending.Timer.Dispose();
        }

        Add(key);
    }
}
