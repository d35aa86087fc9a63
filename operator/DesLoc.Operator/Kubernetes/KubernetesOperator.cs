using System.Collections.Concurrent;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Controllers;
using DesLoc.Operator.Metrics;
using DesLoc.Operator.Reconciliation;
using DesLoc.Operator.Trainers;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace DesLoc.Operator.Kubernetes;

/// <summary>How `serve` runs.</summary>
public sealed record OperatorOptions
{
    /// <summary>Watch one namespace, or every namespace when null.</summary>
    public string? Namespace { get; init; }

    public int Workers { get; init; } = 4;

    public bool LeaderElection { get; init; } = true;

    public string LeaseNamespace { get; init; } = "default";

    public string LeaseName { get; init; } = "desloc-operator";

    public string Identity { get; init; } = Environment.MachineName;

    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(15);

    public TimeSpan RenewDeadline { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan RetryPeriod { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Every cached job is reconciled again this often, whatever happened.</summary>
    public TimeSpan Resync { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the workers of each running job are asked for their status (step, loss, bytes, comm fraction).</summary>
    public TimeSpan TrainerPoll { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Where rank 0 of a job answers gRPC (host:port). Null: its pod's DNS name behind the job's headless Service,
    /// which resolves only inside the cluster; an operator run elsewhere (the tests) says where instead.
    /// </summary>
    public Func<LowCommJob, string>? RankZeroAddress { get; init; }

    /// <summary>
    /// Where the worker of a global rank answers gRPC (host:port), for every worker. Null: <see cref="RankZeroAddress"/>
    /// alone when that is set (only rank 0 is asked, its bytes standing for the job's), else each pod's DNS name.
    /// </summary>
    public Func<LowCommJob, int, string>? WorkerAddress { get; init; }

    /// <summary>Who each job's NetworkPolicy admits besides the job's pods: this operator's pods (its namespace and labels).</summary>
    public OperatorPeer OperatorPeer { get; init; } = new("default", new Dictionary<string, string>());

    /// <summary>Who each job's NetworkPolicy also admits to the trainers' metrics port (a Prometheus); none by default.</summary>
    public MetricsScraperPeer MetricsScraper { get; init; } = MetricsScraperPeer.None;
}

/// <summary>
/// `serve`: the controller around <see cref="JobController"/>, client-go style. Caches list and watch LowCommJobs and
/// the operator's pods, Services and Secrets; every change of a job or of a pod it owns, and every deletion of its
/// Service or Secret, puts the job's key on a rate-limited work queue; workers reconcile one key at a time. Only the
/// leader (a Lease) runs the controllers; a standby waits.
/// </summary>
public sealed class KubernetesOperator(IKubernetes client, OperatorOptions options, OperatorMetrics metrics, ILogger logger)
{
    private readonly ConcurrentDictionary<string, JobCredentials> _credentials = new();

    /// <summary>Set once the caches have synced (for /readyz, and for tests).</summary>
    public bool Synced { get; private set; }

    public bool IsLeader { get; private set; }

    public async Task RunAsync(CancellationToken cancellation)
    {
        if (!options.LeaderElection)
        {
            IsLeader = true;
            metrics.SetLeader(true);
            await RunControllersAsync(cancellation);
            return;
        }

        var election = new LeaderElection(client, options.LeaseNamespace, options.LeaseName, options.Identity, logger,
            options.LeaseDuration, options.RenewDeadline, options.RetryPeriod);
        election.StartedLeading += () => { IsLeader = true; metrics.SetLeader(true); };
        election.StoppedLeading += () => { IsLeader = false; Synced = false; metrics.SetLeader(false); };
        await election.RunAsync(RunControllersAsync, cancellation);
    }

    private async Task RunControllersAsync(CancellationToken cancellation)
    {
        var expectations = new CreationExpectations();
        using var events = new EventRecorder(client, logger: logger);
        using var monitor = new TrainerMonitor(logger);
        using var queue = new WorkQueue<string>();
        const string managed = $"{JobNames.ManagedByLabel}={JobNames.ManagedBy}";
        var jobs = new ResourceCache<LowCommJob>(
            KubernetesSources.Custom<LowCommJob>(client, LowCommJob.Group, LowCommJob.Version, LowCommJob.Plural, options.Namespace),
            logger, resyncPeriod: options.Resync);
        var pods = new ResourceCache<V1Pod>(KubernetesSources.Pods(client, options.Namespace, managed), logger);
        var services = new ResourceCache<V1Service>(KubernetesSources.Services(client, options.Namespace, managed), logger);
        var secrets = new ResourceCache<V1Secret>(KubernetesSources.Secrets(client, options.Namespace, managed), logger);
        var policies = new ResourceCache<V1NetworkPolicy>(KubernetesSources.NetworkPolicies(client, options.Namespace, managed), logger);
        var backend = new KubernetesBackend(client, events, expectations, services, secrets, policies);
        var controller = new JobController(backend, metrics, monitor, options.OperatorPeer, options.MetricsScraper);
        jobs.Changed += change =>
        {
            if (change.New is null && change.Old is { } deleted)
            {
                string key = ObjectKey.Of(deleted);
                expectations.Forget(key);
                monitor.Forget(key);
                _credentials.TryRemove(deleted.Metadata.Uid, out _);
                backend.Forget(deleted.Metadata.NamespaceProperty, deleted.Metadata.Uid);
                metrics.Forget(deleted.Metadata.NamespaceProperty ?? "default", deleted.Metadata.Name);
                return;
            }

            queue.Add(ObjectKey.Of(change.Latest));
        };
        pods.Changed += change =>
        {
            V1Pod pod = change.Latest;
            if (change.New is not null)
            {
                expectations.CreationObserved(ObjectKey.Of(pod));
            }

            if (pod.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true && o.Kind == LowCommJob.KindName) is { } owner)
            {
                queue.Add(ObjectKey.Of(pod.Metadata.NamespaceProperty, owner.Name));
            }
        };
        // A Service or Secret deleted by hand (not with its job) is noticed here and created again by the reconcile.
        void ChildChanged<T>(ResourceChange<T> change)
            where T : class, IKubernetesObject<V1ObjectMeta>
        {
            if (change.New is not null || change.Old is not { } gone
                || gone.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true && o.Kind == LowCommJob.KindName) is not { } owner
                || jobs.Get(gone.Metadata.NamespaceProperty, owner.Name)?.Metadata.Uid != owner.Uid)
            {
                return;
            }

            backend.ChildDeleted(gone);
            queue.Add(ObjectKey.Of(gone.Metadata.NamespaceProperty, owner.Name));
        }

        services.Changed += ChildChanged;
        secrets.Changed += ChildChanged;
        policies.Changed += ChildChanged;

        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        Task caches = Task.WhenAll(jobs.RunAsync(stopping.Token), pods.RunAsync(stopping.Token), services.RunAsync(stopping.Token), secrets.RunAsync(stopping.Token), policies.RunAsync(stopping.Token));
        try
        {
            await jobs.WaitForSyncAsync(stopping.Token);
            await pods.WaitForSyncAsync(stopping.Token);
            await services.WaitForSyncAsync(stopping.Token);
            await secrets.WaitForSyncAsync(stopping.Token);
            await policies.WaitForSyncAsync(stopping.Token);
            Synced = true;
            Task[] workers = [.. Enumerable.Range(0, options.Workers).Select(_ => WorkAsync(queue, jobs, pods, backend, controller, monitor, expectations, stopping.Token))];
            Task polling = PollTrainersAsync(jobs, monitor, queue, stopping.Token);
            await Task.WhenAll([.. workers, polling]);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        finally
        {
            Synced = false;
            queue.ShutDown();
            await stopping.CancelAsync();
            await caches;
        }
    }

    private async Task WorkAsync(
        WorkQueue<string> queue, ResourceCache<LowCommJob> jobs, ResourceCache<V1Pod> pods, KubernetesBackend backend,
        JobController controller, TrainerMonitor monitor, CreationExpectations expectations, CancellationToken cancellation)
    {
        while (!cancellation.IsCancellationRequested)
        {
            string key;
            try
            {
                key = await queue.TakeAsync(cancellation);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                TimeSpan? requeue = await ReconcileAsync(key, jobs, pods, backend, controller, monitor, expectations, cancellation);
                queue.Forget(key);
                if (requeue is { } after)
                {
                    queue.AddAfter(key, after);
                }
            }
            catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Conflict && !cancellation.IsCancellationRequested)
            {
                // Expected: the status was written from a copy the cache had not refreshed yet (a new job's first write
                // usually is). Redone on the fresh copy; no stack trace, nothing failed.
                logger.ReconcileConflict(key, e.Response.Content is { Length: > 0 } body ? Conflict(body) : e.Message);
                queue.AddRateLimited(key);
            }
            catch (CreationRefusedException e) when (!cancellation.IsCancellationRequested)
            {
                // Already in the job's status and Events; retried with backoff. The API server's words suffice here.
                logger.CreationRefused(key, e.Message);
                queue.AddRateLimited(key);
            }
            catch (Exception e) when (!cancellation.IsCancellationRequested)
            {
                logger.ReconcileFailed(e, key);
                queue.AddRateLimited(key);
            }
            catch (Exception) when (cancellation.IsCancellationRequested)
            {
                // Stopping (shutdown, or leadership lost): a reconcile cut short, whatever it threw, is the next
                // leader's to redo; it must not turn a clean stop into a crash.
                return;
            }
            finally
            {
                queue.Done(key);
            }
        }
    }

    /// <summary>The API server's Status message of a 409, or the body as it came.</summary>
    private static string Conflict(string body)
    {
        try
        {
            return KubernetesJson.Deserialize<V1Status>(body)?.Message ?? body;
        }
        catch (System.Text.Json.JsonException)
        {
            return body;
        }
    }

    private static readonly TimeSpan s_expectationRecheck = TimeSpan.FromMilliseconds(500);

    private static async Task<TimeSpan?> ReconcileAsync(
        string key, ResourceCache<LowCommJob> jobs, ResourceCache<V1Pod> pods, KubernetesBackend backend,
        JobController controller, TrainerMonitor monitor, CreationExpectations expectations, CancellationToken cancellation)
    {
        (string? ns, string name) = ObjectKey.Split(key);
        if (jobs.Get(ns, name) is not { } job)
        {
            return null;
        }

        if (!expectations.IsSatisfied(key))
        {
            return s_expectationRecheck; // pods created by an earlier pass are not in the cache yet: do not decide on a stale view
        }

        var observation = new JobObservation(job, pods.ByOwner(job.Metadata.Uid), backend.HasService(job), backend.HasSecret(job),
            monitor.Latest(key), DateTime.UtcNow, backend.HasNetworkPolicy(job), backend.NetworkPolicy(job));
        ReconcilePlan plan = await controller.ReconcileAsync(observation, ReplicaLayout.Cluster(name, ns ?? "default", observation.Job.Spec.Checkpoint, observation.Job.Spec.WorkersPerReplica), cancellation);
        monitor.Recorded(key, observation.Report);
        return plan.RequeueAfter;
    }

    /// <summary>Asks the workers of every running job for their status and, when rank 0 answered, reconciles the job to record it.</summary>
    private async Task PollTrainersAsync(ResourceCache<LowCommJob> jobs, TrainerMonitor monitor, WorkQueue<string> queue, CancellationToken cancellation)
    {
        using var timer = new PeriodicTimer(options.TrainerPoll);
        while (await timer.WaitForNextTickAsync(cancellation))
        {
            foreach (LowCommJob job in jobs.List().Where(j => j.Status?.Phase is JobPhase.Running or JobPhase.Degraded or JobPhase.Restarting))
            {
                try
                {
                    if (await PollAsync(job, monitor, cancellation))
                    {
                        queue.Add(ObjectKey.Of(job));
                    }
                }
                catch (Exception e) when (!cancellation.IsCancellationRequested)
                {
                    // One job's failure (the API server unreachable for its Secret) must not end polling for every job.
                    logger.PollFailed(e, ObjectKey.Of(job));
                }
            }
        }
    }

    private async Task<bool> PollAsync(LowCommJob job, TrainerMonitor monitor, CancellationToken cancellation)
    {
        if (await CredentialsAsync(job, cancellation) is not { } credentials)
        {
            return false;
        }

        ReplicaLayout layout = ReplicaLayout.Cluster(job.Metadata.Name, job.Metadata.NamespaceProperty ?? "default", job.Spec.Checkpoint, job.Spec.WorkersPerReplica);
        int workers = job.Spec.Replicas * job.Spec.WorkersPerReplica;
        IReadOnlyList<string> addresses = options.WorkerAddress is { } address ? [.. Enumerable.Range(0, workers).Select(rank => address(job, rank))]
            : options.RankZeroAddress is { } rankZero ? [rankZero(job)]
            : [.. Enumerable.Range(0, workers).Select(layout.Address)];
        return await monitor.PollAsync(job, addresses, credentials, cancellation);
    }

    /// <summary>The job's token and TLS material from its Secret, read once per job.</summary>
    private async Task<JobCredentials?> CredentialsAsync(LowCommJob job, CancellationToken cancellation)
    {
        if (_credentials.TryGetValue(job.Metadata.Uid, out JobCredentials? credentials))
        {
            return credentials;
        }

        try
        {
            V1Secret secret = await client.CoreV1.ReadNamespacedSecretAsync(JobNames.Secret(job.Metadata.Name), job.Metadata.NamespaceProperty, cancellationToken: cancellation);
            credentials = JobCredentials.FromSecret(secret);
        }
        catch (k8s.Autorest.HttpOperationException)
        {
            return null;
        }

        return credentials is null ? null : _credentials[job.Metadata.Uid] = credentials;
    }
}
