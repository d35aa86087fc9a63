using System.Collections.Concurrent;
using DesLoc.Operator.Adaptive;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Reconciliation;
using DesLoc.Operator.Trainers;
using DesLoc.Transport.Protocol;
using Microsoft.Extensions.Logging;

namespace DesLoc.Operator.Controllers;

/// <summary>
/// Polls rank 0 of each running job for its status, and runs the adaptive sync controller on what it measured: a
/// decided change is sent with SetSyncPeriods (rank 0 hands it to every replica with the next quorum) and then
/// reported once, so the reconciler records it in status and an Event.
/// </summary>
public sealed class TrainerMonitor(ILogger logger, TimeProvider? time = null) : IDisposable
{
    private static readonly TimeSpan s_callTimeout = TimeSpan.FromSeconds(5);
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly ConcurrentDictionary<string, Watched> _jobs = new();

    private sealed class Watched(TrainerClient client, string address)
    {
        public TrainerClient Client { get; } = client;

        public string Address { get; } = address;

        public StatusWindow Window { get; set; } = new();

        public TrainerReport? Latest { get; set; }

        public PeriodChange? Unreported;

        public DateTimeOffset NextDecision { get; set; }
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

        TrainerReport report = watched.Window.Observe(reply);
        watched.Latest = report;
        AdaptiveSyncSpec policy = job.Spec.Sync.Adaptive;
        DateTimeOffset now = _time.GetUtcNow();
        bool pending = job.Status?.Sync?.Pending is { } change && report.Step < change.SwitchStep;
        // Decide on a window of at least two rounds of the most frequent sync: a shorter one can hold none and read as
        // idle. (A round of the longest period, DES-LOC's second moment, reacts too late when a link recovers.)
        bool enoughRounds = report.Periods.TryGetValue(AdaptiveSync.BaseState(report.Periods), out int period)
            && watched.Window.Steps(reply) >= 2L * period;
        if (!policy.Enabled || pending || watched.Unreported is not null || now < watched.NextDecision || !enoughRounds)
        {
            return true;
        }

        watched.NextDecision = now + TimeSpan.FromSeconds(policy.IntervalSeconds);
        watched.Window.Restart(reply);
        if (AdaptiveSync.Decide(policy, report.Periods, report.CommFraction, report.Step) is { } decided)
        {
            try
            {
                SetSyncPeriodsReply answer = await watched.Client.SetSyncPeriodsAsync(decided.Periods, decided.SwitchStep, s_callTimeout, cancellation);
                if (answer.Accepted)
                {
                    watched.Unreported = decided;
                    watched.Window.RestartAt(decided.SwitchStep);
                }
                else
                {
                    logger.PeriodsRefused(key, answer.Message);
                }
            }
            catch (Exception e) when (e is Grpc.Core.RpcException or HttpRequestException)
            {
                logger.PeriodsNotSent(key, e.Message);
            }
        }

        return true;
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
