using System.Collections.Concurrent;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Reconciliation;
using DesLoc.Operator.Trainers;
using DesLoc.Transport.Protocol;
using Microsoft.Extensions.Logging;

namespace DesLoc.Operator.Controllers;

/// <summary>
/// The trainers' side of reconciliation: polls rank 0 of each running job and measures over a window
/// (<see cref="StatusWindow"/>); carries out the reconciler's adaptive decisions: a new window, and a change sent
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

    private sealed class Watched(TrainerClient client, string address)
    {
        public TrainerClient Client { get; } = client;

        public string Address { get; } = address;

        public StatusWindow Window { get; set; } = new();

        public TrainerReport? Latest { get; set; }

        public StatusReply? LastReply { get; set; }

        public PeriodChange? Unreported;
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

    /// <summary>Asks rank 0 for its status; returns false when it could not be reached (it may be restarting).</summary>
    public async Task<bool> PollAsync(LowCommJob job, string rankZeroAddress, string token, CancellationToken cancellation)
    {
        string key = JobNames.Key(job);
        Watched watched = _jobs.AddOrUpdate(
            key,
            _ => new Watched(new TrainerClient(rankZeroAddress, token), rankZeroAddress),
            (_, existing) =>
            {
                if (existing.Address == rankZeroAddress)
                {
                    return existing;
                }

                existing.Client.Dispose();
                return new Watched(new TrainerClient(rankZeroAddress, token), rankZeroAddress);
            });
        StatusReply reply;
        try
        {
            reply = await watched.Client.GetStatusAsync(s_callTimeout, cancellation);
        }
        catch (Exception e) when (e is Grpc.Core.RpcException or HttpRequestException)
        {
            return false;
        }

        watched.LastReply = reply;
        watched.Latest = watched.Window.Observe(reply);
        return true;
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
            SetSyncPeriodsReply answer = await watched.Client.SetSyncPeriodsAsync(change.Periods, change.SwitchStep, s_callTimeout, cancellation);
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
            watched.Client.Dispose();
        }
    }

    public void Dispose()
    {
        foreach (Watched watched in _jobs.Values)
        {
            watched.Client.Dispose();
        }

        _jobs.Clear();
    }
}
