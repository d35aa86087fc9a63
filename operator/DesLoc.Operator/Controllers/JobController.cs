using System.Security.Cryptography;
using DesLoc.Contract.Wire;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Metrics;
using DesLoc.Operator.Reconciliation;
using DesLoc.Operator.Trainers;
using k8s;

namespace DesLoc.Operator.Controllers;

/// <summary>
/// The thin, impure half of reconciliation: asks <see cref="JobReconciler"/> for a plan and carries it out through a
/// backend, writing the status only when it changed. A pod the API server refuses is recorded in the status and as an
/// Event (<see cref="JobReconciler.AfterCreation"/>), and the reconcile then fails so that the work queue backs off.
/// A job's NetworkPolicy admits <paramref name="operatorPeer"/> (and <paramref name="metricsScraper"/> to the metrics port);
/// an existing one whose spec says otherwise (made before the operator was given a scraper) is replaced, one that
/// matches is left alone. Without an operator peer (a local run: loopback has no policies) none is made.
/// </summary>
public sealed class JobController(IJobBackend backend, OperatorMetrics? metrics = null, ITrainerControl? trainers = null, OperatorPeer? operatorPeer = null,
    MetricsScraperPeer? metricsScraper = null)
{
    public async Task<ReconcilePlan> ReconcileAsync(JobObservation observed, ReplicaLayout layout, CancellationToken cancellation)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        LowCommJob job = observed.Job;
        ReconcilePlan plan = JobReconciler.Reconcile(observed, layout);
        try
        {
            string ns = job.Metadata.NamespaceProperty ?? "default";
            if (plan.CreateService)
            {
                await backend.CreateServiceAsync(DesiredObjects.Service(job), cancellation);
            }

            if (plan.CreateSecret)
            {
                await backend.CreateSecretAsync(DesiredObjects.Secret(job, NewCredentials(job, layout), layout), cancellation);
            }

            if (plan.CreateNetworkPolicy && operatorPeer is not null)
            {
                await backend.CreateNetworkPolicyAsync(DesiredObjects.NetworkPolicy(job, operatorPeer, metricsScraper), cancellation);
            }
            else if (plan.AlignNetworkPolicy && operatorPeer is not null && observed.NetworkPolicy is { } current
                && DesiredObjects.NetworkPolicy(job, operatorPeer, metricsScraper).Spec is var desired
                && !DesiredObjects.SameNetworkPolicySpec(current.Spec, desired))
            {
                await backend.ReplaceNetworkPolicyAsync(current, desired, cancellation);
            }

            // Pods are independent of each other: a job's replicas are created (or deleted) in parallel.
            CreationRefusal?[] refused = await Task.WhenAll(plan.CreatePods.Select(pod => CreateAsync(pod, cancellation)));
            await Task.WhenAll(plan.DeletePods.Select(name => backend.DeletePodAsync(ns, name, cancellation)));
            CreationRefusal[] refusals = [.. refused.OfType<CreationRefusal>()];
            if (plan.Adaptive is { } decision && trainers is not null)
            {
                // The change reaches status once rank 0 accepted it: the next report carries it as sent.
                await trainers.ApplyAsync(JobNames.Key(job), decision, cancellation);
            }

            (LowCommJobStatus status, IReadOnlyList<JobEvent> creationEvents) = JobReconciler.AfterCreation(plan.Status, refusals, observed.Now, job.Metadata.Generation);
            plan = plan with { Status = status, Events = [.. plan.Events, .. creationEvents] };

            if (plan.DeleteJob)
            {
                await backend.DeleteJobAsync(job, cancellation);
            }
            else if (job.Status is null || KubernetesJson.Serialize(plan.Status) != KubernetesJson.Serialize(job.Status))
            {
                await backend.UpdateStatusAsync(job, plan.Status, cancellation);
            }

            foreach (JobEvent jobEvent in plan.Events)
            {
                await backend.RecordEventAsync(job, jobEvent, cancellation);
            }

            if (refusals.Length > 0)
            {
                throw new CreationRefusedException(refusals[0].Name, refusals[0].Message);
            }

            metrics?.Reconciled(plan, job, System.Diagnostics.Stopwatch.GetElapsedTime(started), ReconcileResult.Success);
            return plan;
        }
        catch (Exception e) when (!cancellation.IsCancellationRequested)
        {
            ReconcileResult result = e switch
            {
                k8s.Autorest.HttpOperationException { Response.StatusCode: System.Net.HttpStatusCode.Conflict } => ReconcileResult.Conflict,
                CreationRefusedException => ReconcileResult.Refused,
                _ => ReconcileResult.Error,
            };
            metrics?.Reconciled(plan, job, System.Diagnostics.Stopwatch.GetElapsedTime(started), result);
            throw;
        }
    }

    private async Task<CreationRefusal?> CreateAsync(k8s.Models.V1Pod pod, CancellationToken cancellation)
    {
        try
        {
            await backend.CreatePodAsync(pod, cancellation);
            return null;
        }
        catch (CreationRefusedException refused)
        {
            return new CreationRefusal(refused.Name, refused.Refusal);
        }
    }

    /// <summary>
    /// The job's shared secrets between its replicas and the operator: a token of 32 random bytes, hex, and, unless the
    /// job turns TLS off, a CA of its own and the one certificate it signs for every name the layout dials.
    /// </summary>
    private static JobCredentials NewCredentials(LowCommJob job, ReplicaLayout layout) => new(
        Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)),
        job.Spec.Transport.Tls ? JobTlsFiles.Issue(JobNames.Key(job), layout.CertificateNames, DateTimeOffset.UtcNow) : null);
}
