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
        private static readonly ReplicaPhase[] s_phaseOrder = [ReplicaPhase.Failed, ReplicaPhase.Restarting, ReplicaPhase.Pending, ReplicaPhase.Running, ReplicaPhase.Succeeded];
        private readonly int _workers = Math.Max(1, observed.Job.Spec.WorkersPerReplica);
        private readonly DateTime _now = observed.Now;
        private readonly List<V1Pod> _create = [];
        private readonly List<string> _delete = [];
        private readonly List<JobEvent> _events = [];
        private TimeSpan? _requeue;
        private AdaptiveDecision? _adaptive;

        public ReconcilePlan Plan()
        {
            Dictionary<(int Replica, int Worker), ObservedWorker> pods = Workers();
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

            if (MemoryFit.InContainer(_spec) is { } tooLarge)
            {
                return Done(Fail(status, "InsufficientMemory", tooLarge.ToString()), pods, deleteRunning: true);
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

        private ReconcilePlan Running(LowCommJobStatus status, Dictionary<(int Replica, int Worker), ObservedWorker> pods)
        {
            status = DecidePeriods(status);
            bool trainingDone = pods.TryGetValue((0, 0), out ObservedWorker? rankZero) && rankZero.Succeeded;
            var replicas = new List<ReplicaStatus>();
            int counted = status.Restarts;
            int ready = 0;
            int readyWorkers = 0;
            string? failure = null;
            for (int index = 0; index < _spec.Replicas; index++)
            {
                ReplicaStatus previous = status.Replicas.FirstOrDefault(r => r.Index == index) ?? new ReplicaStatus { Index = index };
                var workers = new List<WorkerStatus>();
                foreach (WorkerStatus before in PreviousWorkers(previous))
                {
                    pods.TryGetValue((index, before.Index), out ObservedWorker? pod);
                    (WorkerStatus worker, bool countedRestart, string? fatal) = Worker(index, before, pod, trainingDone);
                    counted += countedRestart ? 1 : 0;
                    failure ??= fatal;
                    workers.Add(worker);
                }

                readyWorkers += workers.Count(w => w.Ready);
                ready += workers.All(w => w.Ready) ? 1 : 0;
                replicas.Add(Compose(previous, [.. workers]));
            }

            status = status with
            {
                Replicas = replicas,
                Restarts = counted,
                ReadyReplicas = ready,
                Ready = $"{ready}/{_spec.Replicas}",
                ReadyWorkers = readyWorkers,
                WorkersReady = $"{readyWorkers}/{_spec.Replicas * _workers}",
            };

            if (failure is not null)
            {
                return Done(Fail(status, "ReplicaFailed", failure), pods, deleteRunning: true);
            }

            if (counted > _spec.FaultTolerance.MaxRestarts)
            {
                string last = replicas.SelectMany(r => PreviousWorkers(r).Select(w => (Replica: r.Index, Worker: w)))
                    .Where(x => x.Worker.LastFailureTime is not null).OrderBy(x => x.Worker.LastFailureTime)
                    .Select(x => $"{Who(x.Replica, x.Worker.Index, capital: false)} {x.Worker.LastFailureReason}{(x.Worker.LastFailureMessage is { } m ? $": {m}" : "")}").LastOrDefault() ?? "";
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
                : (_previous.Phase is JobPhase.Pending or JobPhase.Suspended) && readyWorkers == 0 ? JobPhase.Pending
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

        /// <summary>"Replica r", or "Replica r worker w" when replicas have more than one worker.</summary>
        private string Who(int replica, int worker, bool capital = true) =>
            (capital ? "Replica " : "replica ") + replica.ToString(CultureInfo.InvariantCulture)
            + (_workers > 1 ? " worker " + worker.ToString(CultureInfo.InvariantCulture) : "");

        /// <summary>
        /// Each worker's state as the last status recorded it: the replica's <see cref="ReplicaStatus.Workers"/>, or,
        /// with one worker per replica (or a status written before workers), the replica's own fields as worker 0.
        /// </summary>
        private WorkerStatus[] PreviousWorkers(ReplicaStatus replica) =>
            [.. Enumerable.Range(0, _workers).Select(w =>
                replica.Workers?.FirstOrDefault(x => x.Index == w)
                ?? (w == 0 && (_workers == 1 || replica.Workers is null) ? AsWorker(replica) : new WorkerStatus { Index = w }))];

        private static WorkerStatus AsWorker(ReplicaStatus replica) => new()
        {
            Index = 0,
            Phase = replica.Phase,
            Pod = replica.Pod,
            Restarts = replica.Restarts,
            LastExitCode = replica.LastExitCode,
            LastFailureReason = replica.LastFailureReason,
            LastFailureMessage = replica.LastFailureMessage,
            LastFailureTime = replica.LastFailureTime,
            RestartAfter = replica.RestartAfter,
            FailedPodUid = replica.FailedPodUid,
        };

        /// <summary>
        /// The replica's status from its workers': with one worker, its fields are the worker's (no worker list, as
        /// before there were workers); with more, the list, the total of restarts, the latest failure, and a phase:
        /// Failed, Restarting or Pending if any worker is, Running if any runs, else Succeeded.
        /// </summary>
        private ReplicaStatus Compose(ReplicaStatus replica, WorkerStatus[] workers)
        {
            if (_workers == 1)
            {
                WorkerStatus only = workers[0];
                return replica with
                {
                    Phase = only.Phase,
                    Pod = only.Pod,
                    Restarts = only.Restarts,
                    LastExitCode = only.LastExitCode,
                    LastFailureReason = only.LastFailureReason,
                    LastFailureMessage = only.LastFailureMessage,
                    LastFailureTime = only.LastFailureTime,
                    RestartAfter = only.RestartAfter,
                    FailedPodUid = only.FailedPodUid,
                    Workers = null,
                };
            }

            WorkerStatus? latest = workers.Where(w => w.LastFailureTime is not null).MaxBy(w => w.LastFailureTime);
            return replica with
            {
                Phase = s_phaseOrder.First(p => workers.Any(w => w.Phase == p)),
                Pod = null,
                Restarts = workers.Sum(w => w.Restarts),
                LastExitCode = latest?.LastExitCode ?? replica.LastExitCode,
                LastFailureReason = latest is null ? replica.LastFailureReason : $"worker {latest.Index.ToString(CultureInfo.InvariantCulture)} {latest.LastFailureReason}",
                LastFailureMessage = latest?.LastFailureMessage ?? replica.LastFailureMessage,
                LastFailureTime = latest?.LastFailureTime ?? replica.LastFailureTime,
                RestartAfter = workers.Select(w => w.RestartAfter).Where(t => t is not null).Min(),
                FailedPodUid = null,
                Workers = [.. workers],
            };
        }

        /// <summary>One worker: create its pod, or read it, or handle its failure.</summary>
        private (WorkerStatus Worker, bool CountedRestart, string? Fatal) Worker(int replica, WorkerStatus previous, ObservedWorker? pod, bool trainingDone)
        {
            string name = JobNames.Pod(_job.Metadata.Name, replica, previous.Index, _workers);
            previous = previous with { Ready = false };
            if (pod is null)
            {
                if (trainingDone)
                {
                    return (previous, false, null); // the job is finishing: a worker that is gone stays gone
                }

                if (previous.RestartAfter is { } after && after > _now)
                {
                    Requeue(after - _now);
                    return (previous with { Phase = ReplicaPhase.Restarting }, false, null);
                }

                _create.Add(DesiredObjects.Pod(_job, replica, previous.Index, layout, previous.Restarts));
                // A worker replaced after a failure is restarting; one created at the start or after a resume is pending.
                bool restarting = previous.Phase == ReplicaPhase.Restarting;
                if (restarting)
                {
                    _events.Add(JobEvent.Normal("ReplicaRestarted", $"Recreated {Who(replica, previous.Index, capital: false)} (restart {previous.Restarts}); it heals from a live peer."));
                }

                return (previous with { Phase = restarting ? ReplicaPhase.Restarting : ReplicaPhase.Pending, Pod = name, RestartAfter = null }, false, null);
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
                return (previous with { Phase = phase, Pod = pod.Name, Ready = pod.Running && pod.Ready }, false, null);
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
                    _delete.Add(pod.Name);
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
                return (failed, decision.Counted, $"{Who(replica, previous.Index)} {decision.Cause}{said}");
            }

            if (trainingDone)
            {
                return (failed, false, null);
            }

            int restarts = previous.Restarts + 1;
            TimeSpan backoff = RestartPolicy.Backoff(_spec.FaultTolerance.Backoff, restarts);
            Requeue(backoff);
            _events.Add(JobEvent.Warning("ReplicaFailed", string.Create(CultureInfo.InvariantCulture,
                $"{Who(replica, previous.Index)} {decision.Cause}{said}; recreating it in {backoff.TotalSeconds:0.#}s{(decision.Counted ? "" : " (not counted towards maxRestarts)")}.")));
            return (failed with { Phase = ReplicaPhase.Restarting, Restarts = restarts, RestartAfter = _now + backoff }, decision.Counted, null);
        }

        private ReplicaStatus[] ObservedReplicas(LowCommJobStatus status, Dictionary<(int Replica, int Worker), ObservedWorker> pods) =>
            [.. status.Replicas.Select(r => Compose(r, [.. PreviousWorkers(r).Select(w => pods.TryGetValue((r.Index, w.Index), out ObservedWorker? pod) && !pod.Terminating
                ? w with { Phase = pod.Succeeded ? ReplicaPhase.Succeeded : pod.Failed ? ReplicaPhase.Failed : pod.Running ? ReplicaPhase.Running : w.Phase, Ready = pod.Running && pod.Ready }
                : w with { Ready = false })]))];

        private ReplicaStatus[] Stopped(LowCommJobStatus status) =>
            [.. status.Replicas.Select(r => Compose(r, [.. PreviousWorkers(r).Select(w => w.Phase is ReplicaPhase.Running or ReplicaPhase.Pending or ReplicaPhase.Restarting
                ? w with { Phase = ReplicaPhase.Pending, RestartAfter = null, Ready = false }
                : w with { Ready = false })]))];

        private ReconcilePlan Finished(LowCommJobStatus status, Dictionary<(int Replica, int Worker), ObservedWorker> pods)
        {
            if (status.Phase == JobPhase.Failed)
            {
                DeleteActive(pods); // cleanPodPolicy Running: stop what still runs, keep the failed pods for their logs
            }

            status = status with { Replicas = ObservedReplicas(status, pods) };
            bool expired = ScheduleTtl(status);
            return Plan(status, deleteJob: expired);
        }

        private ReconcilePlan Suspend(LowCommJobStatus status, Dictionary<(int Replica, int Worker), ObservedWorker> pods)
        {
            foreach (ObservedWorker pod in pods.Values.Where(p => !p.Terminating))
            {
                _delete.Add(pod.Name);
            }

            if (_previous.Phase != JobPhase.Suspended)
            {
                _events.Add(JobEvent.Normal("Suspended", "The job was suspended; its pods are deleted (each writes a checkpoint as it stops)."));
            }

            const string message = "The job is suspended.";
            status = SetPhase(status with { Message = message, Replicas = Stopped(status), ReadyReplicas = 0, Ready = $"0/{_spec.Replicas}", ReadyWorkers = 0, WorkersReady = $"0/{_spec.Replicas * _workers}" }, JobPhase.Suspended, "Suspended", message);
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

        private ReconcilePlan Done(LowCommJobStatus status, Dictionary<(int Replica, int Worker), ObservedWorker> pods, bool deleteRunning)
        {
            if (deleteRunning)
            {
                DeleteActive(pods);
                _create.Clear();
            }

            return Plan(status, deleteJob: false);
        }

        private void DeleteActive(Dictionary<(int Replica, int Worker), ObservedWorker> pods)
        {
            foreach (ObservedWorker pod in pods.Values.Where(p => !p.Terminating && !p.Failed && !p.Succeeded))
            {
                if (!_delete.Contains(pod.Name))
                {
                    _delete.Add(pod.Name);
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
                active ? _adaptive : null,
                CreateNetworkPolicy: active && !observed.HasNetworkPolicy,
                AlignNetworkPolicy: active && observed.HasNetworkPolicy);
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

            _adaptive = new AdaptiveDecision(AdaptiveSync.Decide(policy, _spec.Algorithm.Type, _spec.Training.Beta1, report.Periods, report.CommFraction, report.Step));
            return status with { Sync = sync with { LastDecisionTime = _now } };
        }

        /// <summary>
        /// Progress, held-out loss and bytes from rank 0, and the sync periods: a sent change stays pending until rank 0
        /// passes its switch step. The held-out loss stays until rank 0 has a newer one (a restarted rank 0 has none yet).
        /// </summary>
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

            bool evaluated = report.EvalStep > 0 && double.IsFinite(report.EvalLoss) && report.EvalStep >= (status.EvalStep ?? 0);

            return status with
            {
                Step = report.Step,
                Loss = double.IsFinite(report.Loss) ? Math.Round(report.Loss, 4) : null,
                EvalLoss = evaluated ? Math.Round(report.EvalLoss, 4) : status.EvalLoss,
                EvalPerplexity = evaluated ? Math.Round(Math.Exp(report.EvalLoss), 4) : status.EvalPerplexity,
                EvalStep = evaluated ? report.EvalStep : status.EvalStep,
                Sync = sync with { Periods = report.Periods, Pending = pending },
                Communication = new CommunicationStatus
                {
                    BytesSent = report.BytesSent,
                    IntraBytesSent = _workers > 1 ? report.IntraBytesSent : null,
                    DdpEquivalentBytes = report.DdpEquivalentBytes,
                    Reduction = report.BytesSent > 0 ? Math.Round((double)report.DdpEquivalentBytes / report.BytesSent, 2) : null,
                    BandwidthBytesPerSecond = report.BandwidthBytesPerSecond > 0 ? Math.Round(report.BandwidthBytesPerSecond) : null,
                    CommFraction = Math.Round(report.CommFraction, 4),
                },
            };
        }

        private static string Describe(IReadOnlyDictionary<string, int> periods) =>
            "{" + string.Join(", ", periods.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}: {p.Value}")) + "}";

        private Dictionary<(int Replica, int Worker), ObservedWorker> Workers()
        {
            var workers = new Dictionary<(int Replica, int Worker), ObservedWorker>();
            foreach (V1Pod pod in observed.Pods)
            {
                if (ObservedWorker.From(pod) is { } worker && worker.Replica < _spec.Replicas && worker.Worker < _workers
                    && (!workers.TryGetValue((worker.Replica, worker.Worker), out ObservedWorker? other) || other.Terminating))
                {
                    workers[(worker.Replica, worker.Worker)] = worker;
                }
            }

            return workers;
        }

        private void Requeue(TimeSpan after)
        {
            after = after < TimeSpan.FromMilliseconds(100) ? TimeSpan.FromMilliseconds(100) : after;
            _requeue = _requeue is { } current && current < after ? current : after;
        }
    }
}
