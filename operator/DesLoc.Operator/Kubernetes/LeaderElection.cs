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
    private volatile bool _isLeader;
    private volatile string? _leader;

    /// <param name="client">Where the Lease lives.</param>
    /// <param name="leaseNamespace">The Lease's namespace.</param>
    /// <param name="leaseName">The Lease's name.</param>
    /// <param name="identity">This replica's holder identity (its pod name).</param>
    /// <param name="logger">Where transitions and failures are logged.</param>
    /// <param name="leaseDuration">How long a standby waits for an unrenewed lease (15 s when null).</param>
    /// <param name="renewDeadline">How long the leader keeps trying to renew before it gives up (10 s when null).</param>
    /// <param name="retryPeriod">How often electors try to acquire or renew (2 s when null).</param>
    public LeaderElection(
        IKubernetes client,
        string leaseNamespace,
        string leaseName,
        string identity,
        ILogger? logger = null,
        TimeSpan? leaseDuration = null,
        TimeSpan? renewDeadline = null,
        TimeSpan? retryPeriod = null)
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
        var config = new LeaderElectionConfig(new LeaseLock(_client, _namespace, _name, _identity))
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
        elector.OnError += e => _logger.ElectionFailed(e, _namespace, _name);

        while (!cancellationToken.IsCancellationRequested)
        {
            using var term = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var leading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Task? work = null;
            var workEndedFirst = false;

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
                _logger.ElectionFailed(e, _namespace, _name);
            }
            finally
            {
                elector.OnStartedLeading -= OnStarted;
                elector.OnStoppedLeading -= OnStopped;
                _isLeader = false;
                await leading.CancelAsync().ConfigureAwait(false);
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
            _logger.ReleaseFailed(e, _namespace, _name);
            return false;
        }
    }
}
