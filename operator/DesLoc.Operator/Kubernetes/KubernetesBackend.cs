using System.Net;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Controllers;
using DesLoc.Operator.Reconciliation;
using DesLoc.Operator.Trainers;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace DesLoc.Operator.Kubernetes;

/// <summary>
/// Carries out reconcile plans through the Kubernetes API. Creates tolerate "already exists" (a stale cache may ask
/// twice; the API server keeps names unique) and deletes tolerate "not found". The status is replaced with the job's
/// resourceVersion, so a decision made on a stale copy fails with 409 and is redone on the fresh one.
/// Whether a job's Service, Secret and NetworkPolicy exist is read from caches of them, so one deleted by hand is created again.
/// A NetworkPolicy's spec is replaced under its resourceVersion too, and the replacement stands for the cached copy
/// until the cache has seen it, so a reconcile in between neither writes it again nor fails on the stale version.
/// </summary>
public sealed class KubernetesBackend(
    IKubernetes client, EventRecorder events, CreationExpectations expectations, ResourceCache<V1Service> services, ResourceCache<V1Secret> secrets,
    ResourceCache<V1NetworkPolicy> policies)
    : IJobBackend
{
    /// <summary>Children created but maybe not in their cache yet, so the next reconcile does not create them again.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _created = new();

    /// <summary>NetworkPolicies replaced: the resourceVersion replaced and the API server's answer, until the cache moves past the former.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (string Replaced, V1NetworkPolicy Written)> _replaced = new();

    /// <summary>Credentials of Secrets deleted by hand: a recreated Secret carries the token and TLS material the running replicas hold.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, JobCredentials> _lostCredentials = new();

    public bool HasService(LowCommJob job) =>
        _created.ContainsKey(ChildKey(job, "service")) || Owned(services.Get(job.Metadata.NamespaceProperty, JobNames.Service(job.Metadata.Name)), job);

    public bool HasSecret(LowCommJob job) =>
        _created.ContainsKey(ChildKey(job, "secret")) || Owned(secrets.Get(job.Metadata.NamespaceProperty, JobNames.Secret(job.Metadata.Name)), job);

    public bool HasNetworkPolicy(LowCommJob job) =>
        _created.ContainsKey(ChildKey(job, "networkpolicy")) || Owned(policies.Get(job.Metadata.NamespaceProperty, JobNames.NetworkPolicy(job.Metadata.Name)), job);

    /// <summary>The job's NetworkPolicy as last seen: the cached one, or this operator's replacement while the cache still holds what it replaced.</summary>
    public V1NetworkPolicy? NetworkPolicy(LowCommJob job)
    {
        V1NetworkPolicy? cached = policies.Get(job.Metadata.NamespaceProperty, JobNames.NetworkPolicy(job.Metadata.Name));
        if (!Owned(cached, job))
        {
            return null;
        }

        string key = ChildKey(job, "networkpolicy");
        if (_replaced.TryGetValue(key, out var replaced))
        {
            if (cached!.Metadata.ResourceVersion == replaced.Replaced)
            {
                return replaced.Written;
            }

            _replaced.TryRemove(KeyValuePair.Create(key, replaced));
        }

        return cached;
    }

    public async Task ReplaceNetworkPolicyAsync(V1NetworkPolicy current, V1NetworkPolicySpec spec, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(current);
        var replacement = new V1NetworkPolicy
        {
            ApiVersion = "networking.k8s.io/v1",
            Kind = "NetworkPolicy",
            Metadata = current.Metadata, // its resourceVersion: a write on a stale copy fails with 409
            Spec = spec,
        };
        V1NetworkPolicy written = await client.NetworkingV1.ReplaceNamespacedNetworkPolicyAsync(
            replacement, current.Metadata.Name, current.Metadata.NamespaceProperty, cancellationToken: cancellation);
        if (current.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true) is { } owner)
        {
            _replaced[ChildKey(current.Metadata.NamespaceProperty, owner.Uid, "networkpolicy")] = (current.Metadata.ResourceVersion, written);
        }
    }

    public async Task CreateNetworkPolicyAsync(V1NetworkPolicy policy, CancellationToken cancellation)
    {
        await IgnoreConflict(() => client.NetworkingV1.CreateNamespacedNetworkPolicyAsync(policy, policy.Metadata.NamespaceProperty, cancellationToken: cancellation));
        _created[ChildKey(policy.Metadata.NamespaceProperty, policy.Metadata.OwnerReferences[0].Uid, "networkpolicy")] = true;
    }

    public async Task CreateServiceAsync(V1Service service, CancellationToken cancellation)
    {
        await IgnoreConflict(() => client.CoreV1.CreateNamespacedServiceAsync(service, service.Metadata.NamespaceProperty, cancellationToken: cancellation));
        _created[ChildKey(service.Metadata.NamespaceProperty, service.Metadata.OwnerReferences[0].Uid, "service")] = true;
    }

    public async Task CreateSecretAsync(V1Secret secret, CancellationToken cancellation)
    {
        string key = ChildKey(secret.Metadata.NamespaceProperty, secret.Metadata.OwnerReferences[0].Uid, "secret");
        if (_lostCredentials.TryGetValue(key, out JobCredentials? credentials))
        {
            foreach (string stale in secret.Data.Keys.Where(k => k != JobNames.ConfigKey).ToArray())
            {
                secret.Data.Remove(stale);
            }

            foreach ((string name, byte[] value) in credentials.SecretData())
            {
                secret.Data[name] = value;
            }
        }

        await IgnoreConflict(() => client.CoreV1.CreateNamespacedSecretAsync(secret, secret.Metadata.NamespaceProperty, cancellationToken: cancellation));
        _lostCredentials.TryRemove(key, out _);
        _created[key] = true;
    }

    /// <summary>
    /// A child left its cache (deleted by hand, or with its job): it no longer counts as created, and a Secret's token and
    /// TLS material are kept for its replacement (a new CA would split the job: its running pods hold the old one).
    /// </summary>
    public void ChildDeleted(IKubernetesObject<V1ObjectMeta> child)
    {
        ArgumentNullException.ThrowIfNull(child);
        if (child.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true) is not { } owner)
        {
            return;
        }

        string kind = child switch { V1Secret => "secret", V1NetworkPolicy => "networkpolicy", _ => "service" };
        string key = ChildKey(child.Metadata.NamespaceProperty, owner.Uid, kind);
        _created.TryRemove(key, out _);
        _replaced.TryRemove(key, out _);
        if (child is V1Secret secret && JobCredentials.FromSecret(secret) is { } credentials)
        {
            _lostCredentials[key] = credentials;
        }
    }

    public async Task CreatePodAsync(V1Pod pod, CancellationToken cancellation)
    {
        string owner = $"{pod.Metadata.NamespaceProperty}/{pod.Metadata.OwnerReferences[0].Name}";
        string key = ObjectKey.Of(pod.Metadata.NamespaceProperty, pod.Metadata.Name);
        expectations.ExpectCreation(owner, key);
        try
        {
            await IgnoreConflict(() => client.CoreV1.CreateNamespacedPodAsync(pod, pod.Metadata.NamespaceProperty, cancellationToken: cancellation));
        }
        catch (HttpOperationException e) when (IsRefusal(e))
        {
            expectations.CreationFailed(owner, key);
            throw new CreationRefusedException(pod.Metadata.Name, ApiMessage(e), e);
        }
        catch
        {
            expectations.CreationFailed(owner, key);
            throw;
        }
    }

    /// <summary>A client error the API server will repeat: Forbidden (Pod Security, quota, RBAC), Invalid, BadRequest.</summary>
    private static bool IsRefusal(HttpOperationException e) =>
        e.Response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.UnprocessableEntity or HttpStatusCode.BadRequest;

    /// <summary>The message of the API server's Status body, else the HTTP reason.</summary>
    private static string ApiMessage(HttpOperationException e)
    {
        try
        {
            if (KubernetesJson.Deserialize<V1Status>(e.Response.Content) is { Message: { Length: > 0 } message })
            {
                return message;
            }
        }
        catch (System.Text.Json.JsonException)
        {
        }

        return $"{(int)e.Response.StatusCode} {e.Response.ReasonPhrase}";
    }

    public async Task DeletePodAsync(string ns, string name, CancellationToken cancellation)
    {
        try
        {
            await client.CoreV1.DeleteNamespacedPodAsync(name, ns, cancellationToken: cancellation);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
        }
    }

    public async Task UpdateStatusAsync(LowCommJob job, LowCommJobStatus status, CancellationToken cancellation)
    {
        var updated = new LowCommJob { Metadata = job.Metadata, Spec = job.Spec, Status = status };
        await client.CustomObjects.ReplaceNamespacedCustomObjectStatusAsync(
            updated, LowCommJob.Group, LowCommJob.Version, job.Metadata.NamespaceProperty, LowCommJob.Plural, job.Metadata.Name, cancellationToken: cancellation);
    }

    public Task RecordEventAsync(LowCommJob job, JobEvent jobEvent, CancellationToken cancellation) =>
        events.RecordAsync(job, jobEvent.Type, jobEvent.Reason, jobEvent.Message, cancellation);

    public async Task DeleteJobAsync(LowCommJob job, CancellationToken cancellation)
    {
        try
        {
            await client.CustomObjects.DeleteNamespacedCustomObjectAsync(
                LowCommJob.Group, LowCommJob.Version, job.Metadata.NamespaceProperty, LowCommJob.Plural, job.Metadata.Name,
                new V1DeleteOptions { PropagationPolicy = "Background" }, cancellationToken: cancellation);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
        }
    }

    /// <summary>A deleted job's children are gone with it; forget that they existed.</summary>
    public void Forget(string ns, string uid)
    {
        foreach (string kind in (string[])["service", "secret", "networkpolicy"])
        {
            _created.TryRemove(ChildKey(ns, uid, kind), out _);
            _lostCredentials.TryRemove(ChildKey(ns, uid, kind), out _);
            _replaced.TryRemove(ChildKey(ns, uid, kind), out _);
        }
    }

    private static string ChildKey(LowCommJob job, string kind) => ChildKey(job.Metadata.NamespaceProperty, job.Metadata.Uid, kind);

    private static string ChildKey(string? ns, string uid, string kind) => $"{ns}/{uid}/{kind}";

    /// <summary>An object of the job's child's name counts only when this job controls it (not a stranger's, not a predecessor's).</summary>
    private static bool Owned(IKubernetesObject<V1ObjectMeta>? child, LowCommJob job) =>
        child?.Metadata.OwnerReferences?.Any(o => o.Controller == true && o.Uid == job.Metadata.Uid) == true;

    private static async Task IgnoreConflict(Func<Task> create)
    {
        try
        {
            await create();
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            // Exists already: created by an earlier reconcile (or an earlier leader).
        }
    }
}
