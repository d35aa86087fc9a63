using System.Globalization;
using DesLoc.Contract.Validation;
using DesLoc.Operator.Adaptive;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Api.Validation;
using k8s.Models;

namespace DesLoc.Operator.Reconciliation;

/// <summary>
/// The operator's decisions, as one pure function from what is observed to what should be done: which children to
/// create, which pods to delete, the new status, the events to record and when to look again. The Kubernetes and the
/// local backend both carry out its plans, so a job behaves the same on a cluster and on one machine.
/// </summary>
public static class JobReconciler
{
    public static ReconcilePlan Reconcile(JobObservation observed, ReplicaLayout layout)
    {
        var run = new Pass(observed, layout);
        return run.Plan();
    }

    /// <summary>
    /// The status and Events after the plan's pods were created, or some refused by the API server: while any is
    /// refused, <see cref="Conditions.ReplicaFailure"/> is True with the API server's own words, and each refusal is a
    /// <c>FailedCreate</c> Warning; once every pod is created again, the condition turns False.
    /// </summary>
    public static (LowCommJobStatus Status, IReadOnlyList<JobEvent> Events) AfterCreation(
        LowCommJobStatus status, IReadOnlyList<CreationRefusal> refusals, DateTime now, long? generation)
    {
        if (refusals.Count > 0)
        {
            string message = string.Join("; ", refusals.Select(r => $"pod {r.Name}: {r.Message}"));
            IReadOnlyList<V1Condition> refused = Conditions.Set(status.Conditions, Conditions.ReplicaFailure, true, "FailedCreate", message, now, generation);
            return (status with { Conditions = refused, Message = $"The API server refused to create a pod: {message}" },
                [.. refusals.Select(r => JobEvent.Warning("FailedCreate", $"Error creating pod {r.Name}: {r.Message}"))]);
        }

        return Conditions.IsTrue(status.Conditions, Conditions.ReplicaFailure)
            ? (status with { Conditions = Conditions.Set(status.Conditions, Conditions.ReplicaFailure, false, "PodsCreated", "Every replica's pod was created.", now, generation) }, [])
            : (status, []);
    }

    /// <summary>One pass of decisions over one observation; collects actions as it goes.</summary>
    private sealed class Pass(JobObservation observed, ReplicaLayout layout)
    {
        private readonly LowCommJob _job = observed.Job;
        private readonly LowCommJobSpec _spec = observed.Job.Spec;
        private readonly LowCommJobStatus _previous = observed.Job.Status ?? new LowCommJobStatus();
        private readonly DateTime _now = observed.Now;
        private readonly List<V1Pod> _create = [];
        private readonly List<string> _delete = [];
        private readonly List<JobEvent> _events = [];
        private TimeSpan? _requeue;
        private AdaptiveDecision? _adaptive;

        public ReconcilePlan Plan()
        {
            Dictionary<int, ObservedReplica> pods = Replicas();
            LowCommJobStatus status = _previous with { ObservedGeneration = _job.Metadata.Generation };
            status = WithReport(status);

            if (status.Phase is JobPhase.Succeeded or JobPhase.Failed)
            {
                return Finished(status, pods);
            }

            IReadOnlyList<SpecError> errors = LowCommJobValidation.Validate(_spec);
            if (errors.Count > 0)
            {
                // The CRD refuses these; a job can still get here through `run FILE` or an API server without CEL.
                return Done(Fail(status, "InvalidSpec", string.Join("; ", errors)), pods, deleteRunning: true);
            }

            if (_spec.Suspend)
            {
                return Suspend(status, pods);
            }

            if (_previous.Phase == JobPhase.Suspended)
            {
                _events.Add(JobEvent.Normal("Resumed", "The job was resumed; its replicas are recreated and resume from their checkpoints."));
                status = status with
                {
                    StartTime = _now, // the deadline counts from the resume, as Kubeflow's users expect
                    Conditions = Conditions.Set(status.Conditions, Conditions.Suspended, false, "Resumed", "The job was resumed.", _now, _job.Metadata.Generation),
                };
            }

            status = status with { StartTime = status.StartTime ?? _now };
            if (_spec.ActiveDeadlineSeconds is { } deadline)
            {
                DateTime end = status.StartTime.Value.AddSeconds(deadline);
                if (_now >= end)
                {
                    return Done(Fail(status, "DeadlineExceeded", $"The job ran longer than activeDeadlineSeconds ({deadline})."), pods, deleteRunning: true);
                }

                Requeue(end - _now);
            }

            return Running(status, pods);
        }

        private ReconcilePlan Running(LowCommJobStatus status, Dictionary<int, ObservedReplica> pods)
        {
            status = DecidePeriods(status);
            bool trainingDone = pods.TryGetValue(0, out ObservedReplica? rankZero) && rankZero.Succeeded;
            var replicas = new List<ReplicaStatus>();
            int counted = status.Restarts;
            string? failure = null;
            for (int index = 0; index < _spec.Replicas; index++)
            {
                ReplicaStatus previous = status.Replicas.FirstOrDefault(r => r.Index == index) ?? new ReplicaStatus { Index = index };
                pods.TryGetValue(index, out ObservedReplica? pod);
                (ReplicaStatus replica, bool countedRestart, string? fatal) = Replica(previous, pod, trainingDone);
                counted += countedRestart ? 1 : 0;
                failure ??= fatal;
                replicas.Add(replica);
            }

            int ready = replicas.Count(r => r.Phase == ReplicaPhase.Running && pods.TryGetValue(r.Index, out ObservedReplica? p) && p.Ready);
            status = status with
            {
                Replicas = replicas,
                Restarts = counted,
                ReadyReplicas = ready,
                Ready = $"{ready}/{_spec.Replicas}",
            };

            if (failure is not null)
            {
                return Done(Fail(status, "ReplicaFailed", failure), pods, deleteRunning: true);
            }

            if (counted > _spec.FaultTolerance.MaxRestarts)
            {
                string last = replicas.Where(r => r.LastFailureTime is not null).OrderBy(r => r.LastFailureTime)
                    .Select(r => $"replica {r.Index} {r.LastFailureReason}{(r.LastFailureMessage is { } m ? $": {m}" : "")}").LastOrDefault() ?? "";
                return Done(Fail(status, "MaxRestartsExceeded",
                    $"Replicas were restarted {counted} times, more than maxRestarts ({_spec.FaultTolerance.MaxRestarts}); last failure: {last}."), pods, deleteRunning: true);
            }

            if (trainingDone)
            {
                _events.Add(JobEvent.Normal("Succeeded", $"Replica 0 finished training at step {status.Step?.ToString(CultureInfo.InvariantCulture) ?? "?"}."));
                status = SetPhase(status with { CompletionTime = _now, Message = "Training finished." }, JobPhase.Succeeded, "TrainingFinished", "Training finished.");
                status = status with { Conditions = Conditions.Set(status.Conditions, Conditions.Succeeded, true, "TrainingFinished", "Replica 0 finished training.", _now, _job.Metadata.Generation) };
                ScheduleTtl(status);
                return Done(status, pods, deleteRunning: false);
            }

            JobPhase phase = ready == _spec.Replicas ? JobPhase.Running
                : replicas.Any(r => r.Phase == ReplicaPhase.Restarting) ? JobPhase.Restarting
                : (_previous.Phase is JobPhase.Pending or JobPhase.Suspended) && ready == 0 ? JobPhase.Pending
                : JobPhase.Degraded;
            string message = phase switch
            {
                JobPhase.Running => $"All {_spec.Replicas} replicas are running.",
                JobPhase.Restarting => $"Restarting {string.Join(", ", replicas.Where(r => r.Phase == ReplicaPhase.Restarting).Select(r => $"replica {r.Index}"))}; {ready} of {_spec.Replicas} ready.",
                JobPhase.Pending => "Waiting for the replicas to start.",
                _ => $"{ready} of {_spec.Replicas} replicas ready.",
            };
            return Done(SetPhase(status with { Message = message }, phase, phase.ToString(), message), pods, deleteRunning: false);
        }

        /// <summary>One replica: create its pod, or read it, or handle its failure.</summary>
        private (ReplicaStatus Replica, bool CountedRestart, string? Fatal) Replica(ReplicaStatus previous, ObservedReplica? pod, bool trainingDone)
        {
            if (pod is null)
            {
                if (trainingDone)
                {
                    return (previous, false, null); // the job is finishing: a replica that is gone stays gone
                }

                if (previous.RestartAfter is { } after && after > _now)
                {
                    Requeue(after - _now);
                    return (previous with { Phase = ReplicaPhase.Restarting }, false, null);
                }

                _create.Add(DesiredObjects.Pod(_job, previous.Index, layout, previous.Restarts));
                // A replica replaced after a failure is restarting; one created at the start or after a resume is pending.
                bool restarting = previous.Phase == ReplicaPhase.Restarting;
                if (restarting)
                {
                    _events.Add(JobEvent.Normal("ReplicaRestarted", $"Recreated replica {previous.Index} (restart {previous.Restarts}); it heals from a live peer."));
                }

                return (previous with { Phase = restarting ? ReplicaPhase.Restarting : ReplicaPhase.Pending, Pod = JobNames.Pod(_job.Metadata.Name, previous.Index), RestartAfter = null }, false, null);
            }

            if (pod.Terminating)
            {
                return (previous, false, null);
            }

            if (pod.Succeeded)
            {
                return (previous with { Phase = ReplicaPhase.Succeeded }, false, null);
            }

            if (!pod.Failed)
            {
                ReplicaPhase phase = pod.Running ? ReplicaPhase.Running : previous.Phase == ReplicaPhase.Restarting ? ReplicaPhase.Restarting : ReplicaPhase.Pending;
                return (previous with { Phase = phase, Pod = JobNames.Pod(_job.Metadata.Name, pod.Index) }, false, null);
            }

            if (previous.FailedPodUid == pod.Uid)
            {
                // Counted already; the failed pod is kept (for its logs) until the backoff has passed.
                if (previous.RestartAfter is { } after && after > _now)
                {
                    Requeue(after - _now);
                }
                else if (!trainingDone)
                {
                    _delete.Add(JobNames.Pod(_job.Metadata.Name, pod.Index));
                }

                return (previous with { Phase = trainingDone ? ReplicaPhase.Failed : ReplicaPhase.Restarting }, false, null);
            }

            RestartPolicy.Decision decision = RestartPolicy.Classify(_spec.FaultTolerance, pod.ExitCode, pod.Reason);
            var failed = previous with
            {
                Phase = ReplicaPhase.Failed,
                LastExitCode = pod.ExitCode,
                LastFailureReason = decision.Cause,
                LastFailureMessage = pod.Message,
                LastFailureTime = pod.FinishedAt ?? _now,
                FailedPodUid = pod.Uid,
            };
            string said = pod.Message is { } words ? $": {words}" : "";
            if (decision.Action == FailureAction.FailJob)
            {
                return (failed, decision.Counted, $"Replica {pod.Index} {decision.Cause}{said}");
            }

            if (trainingDone)
            {
                return (failed, false, null);
            }

            int restarts = previous.Restarts + 1;
            TimeSpan backoff = RestartPolicy.Backoff(_spec.FaultTolerance.Backoff, restarts);
            Requeue(backoff);
            _events.Add(JobEvent.Warning("ReplicaFailed", string.Create(CultureInfo.InvariantCulture,
                $"Replica {pod.Index} {decision.Cause}{said}; recreating it in {backoff.TotalSeconds:0.#}s{(decision.Counted ? "" : " (not counted towards maxRestarts)")}.")));
            return (failed with { Phase = ReplicaPhase.Restarting, Restarts = restarts, RestartAfter = _now + backoff }, decision.Counted, null);
        }

        private static ReplicaStatus[] ObservedReplicas(LowCommJobStatus status, Dictionary<int, ObservedReplica> pods) =>
            [.. status.Replicas.Select(r => pods.TryGetValue(r.Index, out ObservedReplica? pod) && !pod.Terminating
                ? r with { Phase = pod.Succeeded ? ReplicaPhase.Succeeded : pod.Failed ? ReplicaPhase.Failed : pod.Running ? ReplicaPhase.Running : r.Phase }
                : r)];

        private static ReplicaStatus[] Stopped(LowCommJobStatus status) =>
            [.. status.Replicas.Select(r => r.Phase is ReplicaPhase.Running or ReplicaPhase.Pending or ReplicaPhase.Restarting ? r with { Phase = ReplicaPhase.Pending, RestartAfter = null } : r)];

        private ReconcilePlan Finished(LowCommJobStatus status, Dictionary<int, ObservedReplica> pods)
        {
            if (status.Phase == JobPhase.Failed)
            {
                DeleteActive(pods); // cleanPodPolicy Running: stop what still runs, keep the failed pods for their logs
            }

            status = status with { Replicas = ObservedReplicas(status, pods) };
            bool expired = ScheduleTtl(status);
            return Plan(status, deleteJob: expired);
        }

        private ReconcilePlan Suspend(LowCommJobStatus status, Dictionary<int, ObservedReplica> pods)
        {
            foreach (ObservedReplica pod in pods.Values.Where(p => !p.Terminating))
            {
                _delete.Add(JobNames.Pod(_job.Metadata.Name, pod.Index));
            }

            if (_previous.Phase != JobPhase.Suspended)
            {
                _events.Add(JobEvent.Normal("Suspended", "The job was suspended; its pods are deleted (each writes a checkpoint as it stops)."));
            }

            const string message = "The job is suspended.";
            status = SetPhase(status with { Message = message, Replicas = Stopped(status), ReadyReplicas = 0, Ready = $"0/{_spec.Replicas}" }, JobPhase.Suspended, "Suspended", message);
            status = status with { Conditions = Conditions.Set(status.Conditions, Conditions.Suspended, true, "Suspended", message, _now, _job.Metadata.Generation) };
            return Plan(status, deleteJob: false);
        }

        private LowCommJobStatus Fail(LowCommJobStatus status, string reason, string message)
        {
            _events.Add(JobEvent.Warning(reason == "ReplicaFailed" ? "JobFailed" : reason, message));
            status = SetPhase(status with { CompletionTime = _now, Message = message }, JobPhase.Failed, reason, message);
            status = status with { Conditions = Conditions.Set(status.Conditions, Conditions.Failed, true, reason, message, _now, _job.Metadata.Generation) };
            ScheduleTtl(status);
            return status;
        }

        private LowCommJobStatus SetPhase(LowCommJobStatus status, JobPhase phase, string reason, string message)
        {
            bool running = phase is JobPhase.Running or JobPhase.Degraded or JobPhase.Restarting;
            bool degraded = phase is JobPhase.Degraded or JobPhase.Restarting;
            IReadOnlyList<V1Condition> conditions = status.Conditions;
            long? generation = _job.Metadata.Generation;
            if (running || Conditions.IsTrue(conditions, Conditions.Running))
            {
                conditions = Conditions.Set(conditions, Conditions.Running, running, running ? "ReplicasRunning" : reason, running ? "Replicas are training." : message, _now, generation);
            }

            if (degraded || conditions.Any(c => c.Type == Conditions.Degraded))
            {
                // Not degraded either because every replica is ready again, or because none runs any more: say which.
                (string why, string words) = degraded ? (reason, message)
                    : phase == JobPhase.Running ? ("AllReplicasReady", "All replicas are ready.")
                    : (reason, $"No replica is training: {message}");
                conditions = Conditions.Set(conditions, Conditions.Degraded, degraded, why, words, _now, generation);
            }

            return status with { Phase = phase, Conditions = conditions };
        }

        /// <summary>True when a finished job's time to live has passed; otherwise asks to be looked at again when it will have.</summary>
        private bool ScheduleTtl(LowCommJobStatus status)
        {
            if (_spec.TtlSecondsAfterFinished is not { } ttl || status.CompletionTime is not { } completed)
            {
                return false;
            }

            DateTime expiry = completed.AddSeconds(ttl);
            if (_now >= expiry)
            {
                return true;
            }

            Requeue(expiry - _now);
            return false;
        }

        private ReconcilePlan Done(LowCommJobStatus status, Dictionary<int, ObservedReplica> pods, bool deleteRunning)
        {
            if (deleteRunning)
            {
                DeleteActive(pods);
                _create.Clear();
            }

            return Plan(status, deleteJob: false);
        }

        private void DeleteActive(Dictionary<int, ObservedReplica> pods)
        {
            foreach (ObservedReplica pod in pods.Values.Where(p => !p.Terminating && !p.Failed && !p.Succeeded))
            {
                string name = JobNames.Pod(_job.Metadata.Name, pod.Index);
                if (!_delete.Contains(name))
                {
                    _delete.Add(name);
                }
            }
        }

        private ReconcilePlan Plan(LowCommJobStatus status, bool deleteJob)
        {
            bool active = status.Phase is not (JobPhase.Succeeded or JobPhase.Failed or JobPhase.Suspended);
            return new ReconcilePlan(
                status,
                CreateService: active && !observed.HasService,
                CreateSecret: active && !observed.HasSecret,
                _create,
                _delete,
                _events,
                _requeue,
                deleteJob,
                active ? _adaptive : null);
        }

        /// <summary>
        /// The adaptive controller (<see cref="AdaptiveSync.Decide"/>), on rank 0's measurement: it judges a window once
        /// per <c>intervalSeconds</c>, only when the window holds at least two rounds of the most frequent sync (a
        /// shorter one can hold none and read as idle) and no change is pending. A change is recorded in status once
        /// rank 0 has accepted it (it comes back as the report's sent change).
        /// </summary>
        private LowCommJobStatus DecidePeriods(LowCommJobStatus status)
        {
            AdaptiveSyncSpec policy = _spec.Sync.Adaptive;
            if (!policy.Enabled || observed.Report is not { } report || status.Sync?.Pending is not null || report.SentChange is not null)
            {
                return status;
            }

            SyncStatus sync = status.Sync ?? new SyncStatus();
            bool due = sync.LastDecisionTime is not { } last || _now >= last.AddSeconds(policy.IntervalSeconds);
            bool enoughRounds = report.Periods.TryGetValue(AdaptiveSync.BaseState(report.Periods), out int period)
                && report.WindowSteps >= 2L * period;
            if (!due || !enoughRounds)
            {
                return status;
            }

            _adaptive = new AdaptiveDecision(AdaptiveSync.Decide(policy, report.Periods, report.CommFraction, report.Step));
            return status with { Sync = sync with { LastDecisionTime = _now } };
        }

        /// <summary>Progress and bytes from rank 0, and the sync periods: a sent change stays pending until rank 0 passes its switch step.</summary>
        private LowCommJobStatus WithReport(LowCommJobStatus status)
        {
            if (observed.Report is not { } report)
            {
                return status;
            }

            SyncStatus sync = status.Sync ?? new SyncStatus();
            PeriodChange? pending = report.SentChange ?? sync.Pending;
            if (report.SentChange is { } sent && sent != sync.Pending)
            {
                _events.Add(JobEvent.Normal("SyncPeriodsChanged", $"Sync periods {Describe(report.Periods)} -> {Describe(sent.Periods)} from step {sent.SwitchStep}: {sent.Reason}"));
                sync = sync with { Changes = sync.Changes + 1, LastChangeTime = _now };
            }

            if (pending is not null && report.Step >= pending.SwitchStep)
            {
                pending = null;
            }

            return status with
            {
                Step = report.Step,
                Loss = double.IsFinite(report.Loss) ? Math.Round(report.Loss, 4) : null,
                Sync = sync with { Periods = report.Periods, Pending = pending },
                Communication = new CommunicationStatus
                {
                    BytesSent = report.BytesSent,
                    DdpEquivalentBytes = report.DdpEquivalentBytes,
                    Reduction = report.BytesSent > 0 ? Math.Round((double)report.DdpEquivalentBytes / report.BytesSent, 2) : null,
                    BandwidthBytesPerSecond = report.BandwidthBytesPerSecond > 0 ? Math.Round(report.BandwidthBytesPerSecond) : null,
                    CommFraction = Math.Round(report.CommFraction, 4),
                },
            };
        }

        private static string Describe(IReadOnlyDictionary<string, int> periods) =>
            "{" + string.Join(", ", periods.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}: {p.Value}")) + "}";

        private Dictionary<int, ObservedReplica> Replicas()
        {
            var replicas = new Dictionary<int, ObservedReplica>();
            foreach (V1Pod pod in observed.Pods)
            {
                if (ObservedReplica.From(pod) is { } replica && replica.Index < _spec.Replicas
                    && (!replicas.TryGetValue(replica.Index, out ObservedReplica? other) || other.Terminating))
                {
                    replicas[replica.Index] = replica;
                }
            }

            return replicas;
        }

        private void Requeue(TimeSpan after)
        {
            after = after < TimeSpan.FromMilliseconds(100) ? TimeSpan.FromMilliseconds(100) : after;
            _requeue = _requeue is { } current && current < after ? current : after;
        }
    }
}
