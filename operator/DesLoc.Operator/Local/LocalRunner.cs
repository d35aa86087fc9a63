using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Controllers;
using DesLoc.Operator.Reconciliation;
using Microsoft.Extensions.Logging.Abstractions;

namespace DesLoc.Operator.Local;

/// <summary>Where and how `run` works: its directory (config, checkpoints, logs), the trainer's working directory and executable.</summary>
public sealed record LocalRunOptions(string RunDirectory, string WorkingDirectory, TrainerCommand Trainer)
{
    /// <summary>How often the workers (rank 0 for progress and periods, every worker for bytes and the display) are asked for their status.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Replicas somewhere other than loopback (network namespaces in the slow-link benchmark); null: loopback.</summary>
    public ReplicaNetwork? Network { get; init; }
}

/// <summary>
/// Where each replica runs (by replica index; all its workers run there): the address its peers and the operator
/// reach it at, the address it binds, and the words its command starts with (for example <c>ip netns exec desloc-r1</c>).
/// </summary>
public sealed record ReplicaNetwork(Func<int, string> Host, string BindAddress, Func<int, IReadOnlyList<string>> Prefix);

/// <summary>How a local run ended.</summary>
public sealed record LocalRunResult(LowCommJobStatus Status, IReadOnlyList<JobEvent> Events, bool Stopped, TimeSpan Elapsed);

/// <summary>
/// `run FILE`: the operator's reconcile loop over the local backend. The same <see cref="JobReconciler"/> as on a
/// cluster decides; pods are trainer processes, one per worker (R x W); the loop wakes when a process exits, when the
/// plan asks to be requeued (a restart backoff) and to poll the workers, until the job has finished and every process
/// has exited. Cancelling stops every worker with SIGTERM, so each leaves a checkpoint.
/// </summary>
public static class LocalRunner
{
    public static async Task<LocalRunResult> RunAsync(
        LowCommJob job, LocalRunOptions options, IProgressView? view, Action<LocalCluster>? started, CancellationToken stop)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        job.Metadata.NamespaceProperty ??= "local";
        job.Metadata.Uid ??= Guid.NewGuid().ToString();
        job.Metadata.Generation ??= 1;
        job.Metadata.CreationTimestamp ??= DateTime.UtcNow;
        Directory.CreateDirectory(options.RunDirectory);
        ReplicaLayout layout = LocalLayout.Create(job.Spec.Replicas, options.RunDirectory, options.Network, job.Spec.WorkersPerReplica);
        string[] workers = [.. Enumerable.Range(0, job.Spec.Replicas * job.Spec.WorkersPerReplica).Select(layout.Address)];
        await using var cluster = new LocalCluster(job, options.Trainer, options.RunDirectory, options.WorkingDirectory, options.Network?.Prefix);
        using var monitor = new TrainerMonitor(NullLogger.Instance);
        var controller = new JobController(cluster, trainers: monitor);
        string key = JobNames.Key(job);
        if (view is not null)
        {
            cluster.EventRecorded += view.OnEvent;
        }

        started?.Invoke(cluster);
        DateTime lastPoll = DateTime.MinValue;
        bool stopped = false;
        while (true)
        {
            if (stop.IsCancellationRequested)
            {
                stopped = true;
                await cluster.StopAllAsync();
                break;
            }

            TrainerReport? report = monitor.Latest(key);
            ReconcilePlan plan = await controller.ReconcileAsync(cluster.Observe(DateTime.UtcNow, report), layout, CancellationToken.None);
            monitor.Recorded(key, report);
            LowCommJob current = cluster.Job;
            bool finished = current.Status?.Phase is JobPhase.Succeeded or JobPhase.Failed;
            if (finished && !cluster.AnyProcessRunning())
            {
                break;
            }

            if (DateTime.UtcNow - lastPoll >= options.PollInterval && cluster.Credentials is { } credentials)
            {
                lastPoll = DateTime.UtcNow;
                if (cluster.RunningProcesses().ContainsKey(0))
                {
                    await monitor.PollAsync(current, workers, credentials, stop).ConfigureAwait(false);
                }

                if (view is not null)
                {
                    await view.RefreshAsync(current, layout, credentials, cluster.RunningProcesses(), stop);
                }
            }

            TimeSpan wait = plan.RequeueAfter is { } requeue && requeue < options.PollInterval ? requeue : options.PollInterval;
            try
            {
                await cluster.WaitForChangeAsync(wait, stop);
            }
            catch (OperationCanceledException)
            {
            }
        }

        LowCommJobStatus status = cluster.Job.Status ?? new LowCommJobStatus();
        return new LocalRunResult(status, cluster.Events, stopped, clock.Elapsed);
    }
}
