using System.Collections.Concurrent;
using DesLoc.Contract.Wire;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Reconciliation;
using DesLoc.Operator.Trainers;
using DesLoc.Transport.Protocol;
using Microsoft.Extensions.Logging;

namespace DesLoc.Operator.Controllers;

/// <summary>
/// The trainers' side of reconciliation: polls every worker of each running job, measures rank 0 (the coordinator,
/// replica 0 worker 0) over a window (<see cref="StatusWindow"/>) and sums the job's bytes by tier; carries out the reconciler's adaptive decisions: a new window, and a change sent
/// with SetSyncPeriods (rank 0 hands it to every replica with the next quorum), reported until a reconcile records it.
/// </summary>
public interface ITrainerControl
{
    /// <summary>Carries out <paramref name="decision"/> for the job; false when rank 0 refused the change or was unreachable.</summary>
    Task<bool> ApplyAsync(string jobKey, AdaptiveDecision decision, CancellationToken cancellation);
}

/// <inheritdoc cref="ITrainerControl"/>
public sealed class TrainerMonitor(ILogger logger) : ITrainerControl, IDisposable
{
    private static readonly TimeSpan s_callTimeout = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<string, Watched> _jobs = new();

    /// <summary>A job's workers, by global rank: rank 0 is the coordinator, measured over the window.</summary>
    private sealed class Watched(IReadOnlyList<string> addresses, JobCredentials credentials)
    {
        public IReadOnlyList<string> Addresses { get; } = [.. addresses];

        public JobCredentials Credentials { get; } = credentials;

        public TrainerClient[] Clients { get; } = [.. addresses.Select(address => new TrainerClient(address, credentials))];

        /// <summary>The latest answer of each worker that has answered; one that is unreachable now keeps its last.</summary>
        public Dictionary<int, StatusReply> Replies { get; } = [];

        public StatusWindow Window { get; set; } = new();

        public TrainerReport? Latest { get; set; }

        public StatusReply? LastReply { get; set; }

        public PeriodChange? Unreported;

        public void Dispose()
        {
            foreach (TrainerClient client in Clients)
            {
                client.Dispose();
            }
        }
    }

    /// <summary>
    /// The latest report of the job, carrying a sent period change until <see cref="Recorded"/> says a reconcile wrote
    /// it: a status write refused as stale (409) must not lose it.
    /// </summary>
    public TrainerReport? Latest(string jobKey) =>
        _jobs.TryGetValue(jobKey, out Watched? watched) && watched.Latest is { } report
            ? report with { SentChange = watched.Unreported }
            : null;

    /// <summary>The reconcile that observed <paramref name="report"/> succeeded: its period change is in status now.</summary>
    public void Recorded(string jobKey, TrainerReport? report)
    {
        if (report?.SentChange is { } change && _jobs.TryGetValue(jobKey, out Watched? watched))
        {
            // Only that change: a newer one sent meanwhile still waits for its own reconcile.
            Interlocked.CompareExchange(ref watched.Unreported, null, change);
        }
    }

    /// <summary>Asks rank 0 alone for its status (its bytes stand for the job's); false when it could not be reached.</summary>
    public Task<bool> PollAsync(LowCommJob job, string rankZeroAddress, JobCredentials credentials, CancellationToken cancellation) =>
        PollAsync(job, [rankZeroAddress], credentials, cancellation);

    /// <summary>
    /// Asks every worker for its status, in parallel (<paramref name="workerAddresses"/> by global rank, rank 0 first):
    /// rank 0's answer is measured over the window; the job's bytes are summed over every worker's latest answer
    /// (<see cref="JobBytes"/>). Returns false when rank 0 could not be reached (it may be restarting).
    /// </summary>
    public async Task<bool> PollAsync(LowCommJob job, IReadOnlyList<string> workerAddresses, JobCredentials credentials, CancellationToken cancellation)
    {
        ArgumentOutOfRangeException.ThrowIfZero(workerAddresses.Count);
        string key = JobNames.Key(job);
        Watched watched = _jobs.AddOrUpdate(
            key,
            _ => new Watched(workerAddresses, credentials),
            (_, existing) =>
            {
                if (existing.Addresses.SequenceEqual(workerAddresses) && existing.Credentials == credentials)
                {
                    return existing;
                }

                existing.Dispose();
                return new Watched(workerAddresses, credentials);
            });
        StatusReply?[] replies = await Task.WhenAll(watched.Clients.Select(client => TryGetStatusAsync(client, cancellation)));
        for (int rank = 0; rank < replies.Length; rank++)
        {
            if (replies[rank] is { } reply)
            {
                watched.Replies[rank] = reply;
            }
        }

        if (replies[0] is not { } coordinator)
        {
            return false;
        }

        (long inter, long intra, long ddp) = JobBytes.Sum(new JobTopology(job.Spec.Replicas, Math.Max(1, job.Spec.WorkersPerReplica)), watched.Replies);
        watched.LastReply = coordinator;
        watched.Latest = watched.Window.Observe(coordinator) with { BytesSent = inter, IntraBytesSent = intra, DdpEquivalentBytes = ddp };
        return true;
    }

    private static async Task<StatusReply?> TryGetStatusAsync(TrainerClient client, CancellationToken cancellation)
    {
        try
        {
            return await client.GetStatusAsync(s_callTimeout, cancellation);
        }
        catch (Exception e) when (e is Grpc.Core.RpcException or HttpRequestException)
        {
            return null;
        }
    }

    public async Task<bool> ApplyAsync(string jobKey, AdaptiveDecision decision, CancellationToken cancellation)
    {
        if (!_jobs.TryGetValue(jobKey, out Watched? watched) || watched.LastReply is not { } judged)
        {
            return false;
        }

        watched.Window.Restart(judged);
        if (decision.Change is not { } change)
        {
            return true;
        }

        try
        {
            SetSyncPeriodsReply answer = await watched.Clients[0].SetSyncPeriodsAsync(change.Periods, change.SwitchStep, s_callTimeout, cancellation);
            if (!answer.Accepted)
            {
                logger.PeriodsRefused(jobKey, answer.Message);
                return false;
            }

            watched.Unreported = change;
            watched.Window.RestartAt(change.SwitchStep);
            return true;
        }
        catch (Exception e) when (e is Grpc.Core.RpcException or HttpRequestException)
        {
            logger.PeriodsNotSent(jobKey, e.Message);
            return false;
        }
    }

    public void Forget(string jobKey)
    {
        if (_jobs.TryRemove(jobKey, out Watched? watched))
        {
            watched.Dispose();
        }
    }

    public void Dispose()
    {
        foreach (Watched watched in _jobs.Values)
        {
            watched.Dispose();
        }

        _jobs.Clear();
    }
}
