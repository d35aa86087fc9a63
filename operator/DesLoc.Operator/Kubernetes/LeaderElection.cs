using System.Runtime.ExceptionServices;
using k8s;
using k8s.LeaderElection;
using k8s.LeaderElection.ResourceLock;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DesLoc.Operator.Kubernetes;

/// <summary>
/// Leader election on a coordination/v1 Lease, over the client's <see cref="LeaderElector"/>: runs the leader's
/// work while this replica leads (cancelling its token when leadership is lost) and, unlike the client's elector,
/// releases the lease when it stops, so a standby takes over within a retry period instead of a lease duration.
/// The client's elector lets a failed connection (an <see cref="HttpRequestException"/>, not an HTTP error) escape at
/// once; such failures are retried here with jittered exponential backoff, one warning per streak.
/// </summary>
public sealed class LeaderElection
{
    private readonly IKubernetes _client;
    private readonly string _namespace;
    private readonly string _name;
    private readonly string _identity;
    private readonly ILogger _logger;
    private readonly TimeSpan _leaseDuration;
    private readonly TimeSpan _renewDeadline;
    private readonly TimeSpan _retryPeriod;
    private readonly TimeProvider _time;
    private readonly RetryStreak _streak;
    private volatile bool _isLeader;
    private volatile string? _leader;

    /// <param name="client">Where the Lease lives.</param>
    /// <param name="leaseNamespace">The Lease's namespace.</param>
    /// <param name="leaseName">The Lease's name.</param>
    /// <param name="identity">This replica's holder identity (its pod name).</param>
    /// <param name="logger">Where transitions and failures are logged.</param>
    /// <param name="leaseDuration">How long a standby waits for an unrenewed lease (15 s when null).</param>
    /// <param name="renewDeadline">How long the leader keeps trying to renew before it gives up (10 s when null).</param>
    /// <param name="retryPeriod">How often electors try to acquire or renew (2 s when null); the first backoff after a failure.</param>
    /// <param name="time">The clock for the backoff after failures; the system clock when null.</param>
    /// <param name="retryCap">The backoff's cap (30 s when null).</param>
    /// <param name="random">Draws the backoff's jitter, 0..1 (<see cref="Random.Shared"/> when null).</param>
    public LeaderElection(
        IKubernetes client,
        string leaseNamespace,
        string leaseName,
        string identity,
        ILogger? logger = null,
        TimeSpan? leaseDuration = null,
        TimeSpan? renewDeadline = null,
        TimeSpan? retryPeriod = null,
        TimeProvider? time = null,
        TimeSpan? retryCap = null,
        Func<double>? random = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(identity);
        _client = client;
        _namespace = leaseNamespace;
        _name = leaseName;
        _identity = identity;
        _logger = logger ?? NullLogger.Instance;
        _leaseDuration = leaseDuration ?? TimeSpan.FromSeconds(15);
        _renewDeadline = renewDeadline ?? TimeSpan.FromSeconds(10);
        _retryPeriod = retryPeriod ?? TimeSpan.FromSeconds(2);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(_renewDeadline, _leaseDuration, nameof(renewDeadline));
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(_retryPeriod, _renewDeadline, nameof(retryPeriod));
        _time = time ?? TimeProvider.System;
        _streak = new RetryStreak(_retryPeriod, retryCap ?? TimeSpan.FromSeconds(30), random);
    }

    /// <summary>Raised when this replica becomes the leader (before the leader's work starts).</summary>
    public event Action? StartedLeading;

    /// <summary>Raised when this replica stops leading (lost or shutting down).</summary>
    public event Action? StoppedLeading;

    /// <summary>Raised with the holder's identity whenever another holder (or none: empty) is observed.</summary>
    public event Action<string>? NewLeader;

    public string Identity => _identity;

    public bool IsLeader => _isLeader;

    /// <summary>The last holder observed; empty after a release, null before the first observation.</summary>
    public string? Leader => _leader;

    /// <summary>
    /// Campaigns until <paramref name="cancellationToken"/> is cancelled or <paramref name="whileLeading"/> ends on its
    /// own. Each time this replica leads, <paramref name="whileLeading"/> runs with a token cancelled when leadership
    /// is lost; then the lease is released. A failure of <paramref name="whileLeading"/> is rethrown.
    /// </summary>
    public async Task RunAsync(Func<CancellationToken, Task> whileLeading, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(whileLeading);
        var config = new LeaderElectionConfig(new ReachabilityLock(new LeaseLock(_client, _namespace, _name, _identity), Reached))
        {
            LeaseDuration = _leaseDuration,
            RenewDeadline = _renewDeadline,
            RetryPeriod = _retryPeriod,
        };
        using var elector = new LeaderElector(config);
        elector.OnNewLeader += leader =>
        {
            _leader = leader;
            _logger.NewLeader(leader, _namespace, _name);
            NewLeader?.Invoke(leader ?? "");
        };
        // The elector reports here what it handles itself (a 404 before the lease exists, a failed renewal that ends
        // the term): worth a debug line, not a stack trace.
        elector.OnError += e =>
        {
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                _logger.ElectionError(_namespace, _name, RetryStreak.Reason(e));
            }
        };

        while (!cancellationToken.IsCancellationRequested)
        {
            using var term = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var leading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Task? work = null;
            var workEndedFirst = false;
            Exception? failed = null;

            void OnStarted()
            {
                _isLeader = true;
                _logger.StartedLeading(_namespace, _name, _identity);
                StartedLeading?.Invoke();
                work = Task.Run(() => whileLeading(leading.Token), CancellationToken.None);
                // Work that ends by itself ends the term: stop renewing and hand the lease on.
                work.ContinueWith(
                    _ =>
                    {
                        if (!leading.IsCancellationRequested)
                        {
                            workEndedFirst = true;
                            term.Cancel();
                        }
                    },
                    CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously,
                    TaskScheduler.Default);
            }

            void OnStopped()
            {
                // Observers hear of it before the work is cancelled: work that sees its token cancelled can rely on
                // the replica no longer reading as leader anywhere (readiness, the leader metric).
                _isLeader = false;
                _logger.StoppedLeading(_namespace, _name, _identity);
                StoppedLeading?.Invoke();
                leading.Cancel();
            }

            elector.OnStartedLeading += OnStarted;
            elector.OnStoppedLeading += OnStopped;
            try
            {
                await elector.RunUntilLeadershipLostAsync(term.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (term.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                failed = e;
            }
            finally
            {
                elector.OnStartedLeading -= OnStarted;
                elector.OnStoppedLeading -= OnStopped;
                _isLeader = false;
                await leading.CancelAsync().ConfigureAwait(false);
            }

            if (failed is not null)
            {
                await BackOffAsync(failed, cancellationToken).ConfigureAwait(false);
            }

            if (work is null)
            {
                continue;
            }

            Exception? failure = null;
            try
            {
                await work.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (leading.IsCancellationRequested && !workEndedFirst)
            {
            }
            catch (Exception e)
            {
                failure = e;
            }

            await ReleaseAsync().ConfigureAwait(false);
            if (failure is not null)
            {
                ExceptionDispatchInfo.Throw(failure);
            }

            if (workEndedFirst)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Hands the lease back if this replica still holds it: an empty holder and a 1 s duration, as client-go's
    /// ReleaseOnCancel writes. Empty, not null: the client's elector reads a null holder as "no lease" and tries to
    /// create one, which conflicts forever; an empty holder it may take over at once.
    /// </summary>
    public async Task<bool> ReleaseAsync()
    {
        using var timeout = new CancellationTokenSource(_renewDeadline);
        try
        {
            var lease = await _client.CoordinationV1.ReadNamespacedLeaseAsync(_name, _namespace, cancellationToken: timeout.Token)
                .ConfigureAwait(false);
            if (lease.Spec?.HolderIdentity != _identity)
            {
                return false;
            }

            var now = DateTime.UtcNow;
            lease.Spec.HolderIdentity = "";
            lease.Spec.LeaseDurationSeconds = 1;
            lease.Spec.AcquireTime = now;
            lease.Spec.RenewTime = now;
            // The read's resourceVersion makes this a no-op (409) if a standby has taken the lease meanwhile.
            await _client.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, _name, _namespace, cancellationToken: timeout.Token)
                .ConfigureAwait(false);
            _logger.Released(_namespace, _name, _identity);
            return true;
        }
        catch (Exception e)
        {
            _logger.ReleaseFailed(_namespace, _name, RetryStreak.Reason(e));
            return false;
        }
    }

    /// <summary>Waits out the backoff after an attempt that failed; the first failure of a streak is a warning.</summary>
    private async Task BackOffAsync(Exception failure, CancellationToken cancellationToken)
    {
        var (failures, delay) = _streak.Failed();
        if (failures == 1)
        {
            _logger.ElectionFailing(_namespace, _name, RetryStreak.Reason(failure), delay);
        }
        else if (_logger.IsEnabled(LogLevel.Debug))
        {
            _logger.ElectionStillFailing(_namespace, _name, failures, RetryStreak.Reason(failure), delay);
        }

        try
        {
            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>A lease call came back (whatever it said): the API server is reachable, so a failure streak ends.</summary>
    private void Reached()
    {
        if (_streak.Succeeded() is > 0 and var failures)
        {
            _logger.ElectionRecovered(_namespace, _name, failures);
        }
    }

    /// <summary>The lease lock, telling <paramref name="reached"/> of every call that got an answer from the server.</summary>
    private sealed class ReachabilityLock(ILock inner, Action reached) : ILock
    {
        public string Identity => inner.Identity;

        public string Describe() => inner.Describe();

        public Task<LeaderElectionRecord> GetAsync(CancellationToken cancellationToken = default) =>
            Observe(inner.GetAsync(cancellationToken));

        public Task<bool> CreateAsync(LeaderElectionRecord record, CancellationToken cancellationToken = default) =>
            Observe(inner.CreateAsync(record, cancellationToken));

        public Task<bool> UpdateAsync(LeaderElectionRecord record, CancellationToken cancellationToken = default) =>
            Observe(inner.UpdateAsync(record, cancellationToken));

        private async Task<TResult> Observe<TResult>(Task<TResult> call)
        {
            try
            {
                TResult result = await call.ConfigureAwait(false);
                reached();
                return result;
            }
            catch (k8s.Autorest.HttpOperationException)
            {
                reached(); // an HTTP error (404 before the lease exists, 409) is an answer
                throw;
            }
        }
    }
}
