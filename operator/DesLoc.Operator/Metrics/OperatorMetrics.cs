using System.Collections.Concurrent;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Reconciliation;
using Prometheus;

namespace DesLoc.Operator.Metrics;

/// <summary>
/// What the operator exports on /metrics (prefix <c>desloc_operator_</c> for its own work, <c>desloc_job_</c> for each
/// job's communication as read from status). Each instance has its own registry, so two operators in one test process
/// do not share counters.
/// </summary>
public sealed class OperatorMetrics
{
    /// <summary>The <c>tier</c> label of <c>desloc_job_bytes_sent</c> (DESIGN.md §6).</summary>
    public const string Inter = "inter";

    /// <inheritdoc cref="Inter"/>
    public const string Intra = "intra";

    private readonly ConcurrentDictionary<string, JobPhase> _phases = new();
    private readonly Counter _reconciles;
    private readonly Histogram _reconcileSeconds;
    private readonly Gauge _jobs;
    private readonly Counter _restarts;
    private readonly Counter _periodChanges;
    private readonly Gauge _leader;
    private readonly Gauge _bytesSent;
    private readonly Gauge _ddpBytes;
    private readonly Gauge _reduction;
    private readonly Gauge _commFraction;

    public OperatorMetrics()
    {
        Registry = Prometheus.Metrics.NewCustomRegistry();
        MetricFactory factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        _reconciles = factory.CreateCounter("desloc_operator_reconcile_total", "Reconciles of LowCommJobs, by result.", "result");
        _reconcileSeconds = factory.CreateHistogram("desloc_operator_reconcile_duration_seconds", "Time to reconcile one LowCommJob.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.0005, 2, 16) });
        _jobs = factory.CreateGauge("desloc_operator_jobs", "LowCommJobs by phase.", "phase");
        _restarts = factory.CreateCounter("desloc_operator_replica_restarts_total", "Replicas recreated after a failure.", "namespace", "job");
        _periodChanges = factory.CreateCounter("desloc_operator_sync_period_changes_total", "Sync-period changes sent by the adaptive controller.", "namespace", "job");
        _leader = factory.CreateGauge("desloc_operator_leader", "1 while this operator instance is the leader.");
        _bytesSent = factory.CreateGauge("desloc_job_bytes_sent",
            "Bytes the job's workers have sent, summed over workers, by tier: inter (between replicas, across sites) and intra (inside a replica; only with more than one worker per replica).",
            "namespace", "job", "tier");
        _ddpBytes = factory.CreateGauge("desloc_job_ddp_equivalent_bytes", "Bytes flat DDP would have sent out of the replicas (sites) for the same steps, summed over replicas.", "namespace", "job");
        _reduction = factory.CreateGauge("desloc_job_reduction_ratio", "DDP-equivalent bytes over inter-tier bytes sent.", "namespace", "job");
        _commFraction = factory.CreateGauge("desloc_job_comm_fraction", "Fraction of wall time spent in sync rounds (last interval).", "namespace", "job");
        foreach (JobPhase phase in Enum.GetValues<JobPhase>())
        {
            _jobs.WithLabels(phase.ToString()).Set(0);
        }

        _leader.Set(0);
    }

    public CollectorRegistry Registry { get; }

    public void SetLeader(bool leading) => _leader.Set(leading ? 1 : 0);

    public void Reconciled(ReconcilePlan plan, LowCommJob job, TimeSpan duration, ReconcileResult result)
    {
        _reconciles.WithLabels(result.ToString().ToLowerInvariant()).Inc();
        _reconcileSeconds.Observe(duration.TotalSeconds);
        if (result != ReconcileResult.Success)
        {
            return;
        }

        string ns = job.Metadata.NamespaceProperty ?? "default";
        string name = job.Metadata.Name;
        _restarts.WithLabels(ns, name).Inc(plan.Events.Count(e => e.Reason == "ReplicaRestarted"));
        _periodChanges.WithLabels(ns, name).Inc(plan.Events.Count(e => e.Reason == "SyncPeriodsChanged"));
        if (plan.Status.Communication is { } communication)
        {
            _bytesSent.WithLabels(ns, name, Inter).Set(communication.BytesSent);
            if (communication.IntraBytesSent is { } intra)
            {
                _bytesSent.WithLabels(ns, name, Intra).Set(intra);
            }

            _ddpBytes.WithLabels(ns, name).Set(communication.DdpEquivalentBytes);
            _reduction.WithLabels(ns, name).Set(communication.Reduction ?? 0);
            _commFraction.WithLabels(ns, name).Set(communication.CommFraction ?? 0);
        }

        if (plan.DeleteJob)
        {
            Forget(ns, name);
        }
        else
        {
            _phases[$"{ns}/{name}"] = plan.Status.Phase;
            CountPhases();
        }
    }

    /// <summary>A deleted job leaves the phase counts and its per-job series.</summary>
    public void Forget(string ns, string name)
    {
        _phases.TryRemove($"{ns}/{name}", out _);
        foreach (Gauge gauge in new[] { _ddpBytes, _reduction, _commFraction })
        {
            gauge.RemoveLabelled(ns, name);
        }

        _bytesSent.RemoveLabelled(ns, name, Inter);
        _bytesSent.RemoveLabelled(ns, name, Intra);

        CountPhases();
    }

    private void CountPhases()
    {
        var counts = _phases.Values.GroupBy(p => p).ToDictionary(g => g.Key, g => g.Count());
        foreach (JobPhase phase in Enum.GetValues<JobPhase>())
        {
            _jobs.WithLabels(phase.ToString()).Set(counts.GetValueOrDefault(phase));
        }
    }
}

/// <summary>The <c>result</c> label of <c>desloc_operator_reconcile_total</c>.</summary>
public enum ReconcileResult
{
    Success,

    /// <summary>A status write met a newer copy (409): expected, redone on the fresh copy.</summary>
    Conflict,

    /// <summary>The API server refused a child (Pod Security, quota, admission): in status and Events, retried with backoff.</summary>
    Refused,

    Error,
}
