using System.Text.Json;
using k8s;
using k8s.Models;

namespace DesLoc.Operator.Kubernetes;

/// <summary>
/// <see cref="IResourceSource{T}"/>s over the real client. Watches ask for bookmarks and end after
/// <c>watchTimeoutSeconds</c>, so a silently dead connection is replaced regularly.
/// </summary>
public static class KubernetesSources
{
    public const int DefaultWatchTimeoutSeconds = 300;

    /// <summary>Pods of one namespace (or all when <paramref name="namespace"/> is null) matching a label selector.</summary>
    public static IResourceSource<V1Pod> Pods(
        IKubernetes client, string? @namespace, string? labelSelector, int watchTimeoutSeconds = DefaultWatchTimeoutSeconds)
    {
        ArgumentNullException.ThrowIfNull(client);
        return new DelegateSource<V1Pod>(
            async ct =>
            {
                var list = @namespace is null
                    ? await client.CoreV1.ListPodForAllNamespacesAsync(labelSelector: labelSelector, cancellationToken: ct).ConfigureAwait(false)
                    : await client.CoreV1.ListNamespacedPodAsync(@namespace, labelSelector: labelSelector, cancellationToken: ct).ConfigureAwait(false);
                return ([.. list.Items ?? []], list.Metadata?.ResourceVersion ?? "");
            },
            (from, onError, ct) => @namespace is null
                ? client.CoreV1.WatchListPodForAllNamespacesAsync(
                    allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: from,
                    timeoutSeconds: watchTimeoutSeconds, onError: onError, cancellationToken: ct)
                : client.CoreV1.WatchListNamespacedPodAsync(
                    @namespace, allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: from,
                    timeoutSeconds: watchTimeoutSeconds, onError: onError, cancellationToken: ct));
    }

    /// <summary>Services of one namespace (or all) matching a label selector: the operator's own, to see them deleted.</summary>
    public static IResourceSource<V1Service> Services(
        IKubernetes client, string? @namespace, string? labelSelector, int watchTimeoutSeconds = DefaultWatchTimeoutSeconds)
    {
        ArgumentNullException.ThrowIfNull(client);
        return new DelegateSource<V1Service>(
            async ct =>
            {
                var list = @namespace is null
                    ? await client.CoreV1.ListServiceForAllNamespacesAsync(labelSelector: labelSelector, cancellationToken: ct).ConfigureAwait(false)
                    : await client.CoreV1.ListNamespacedServiceAsync(@namespace, labelSelector: labelSelector, cancellationToken: ct).ConfigureAwait(false);
                return ([.. list.Items ?? []], list.Metadata?.ResourceVersion ?? "");
            },
            (from, onError, ct) => @namespace is null
                ? client.CoreV1.WatchListServiceForAllNamespacesAsync(
                    allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: from,
                    timeoutSeconds: watchTimeoutSeconds, onError: onError, cancellationToken: ct)
                : client.CoreV1.WatchListNamespacedServiceAsync(
                    @namespace, allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: from,
                    timeoutSeconds: watchTimeoutSeconds, onError: onError, cancellationToken: ct));
    }

    /// <summary>Secrets of one namespace (or all) matching a label selector: the operator's own, to see them deleted.</summary>
    public static IResourceSource<V1Secret> Secrets(
        IKubernetes client, string? @namespace, string? labelSelector, int watchTimeoutSeconds = DefaultWatchTimeoutSeconds)
    {
        ArgumentNullException.ThrowIfNull(client);
        return new DelegateSource<V1Secret>(
            async ct =>
            {
                var list = @namespace is null
                    ? await client.CoreV1.ListSecretForAllNamespacesAsync(labelSelector: labelSelector, cancellationToken: ct).ConfigureAwait(false)
                    : await client.CoreV1.ListNamespacedSecretAsync(@namespace, labelSelector: labelSelector, cancellationToken: ct).ConfigureAwait(false);
                return ([.. list.Items ?? []], list.Metadata?.ResourceVersion ?? "");
            },
            (from, onError, ct) => @namespace is null
                ? client.CoreV1.WatchListSecretForAllNamespacesAsync(
                    allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: from,
                    timeoutSeconds: watchTimeoutSeconds, onError: onError, cancellationToken: ct)
                : client.CoreV1.WatchListNamespacedSecretAsync(
                    @namespace, allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: from,
                    timeoutSeconds: watchTimeoutSeconds, onError: onError, cancellationToken: ct));
    }

    /// <summary>NetworkPolicies of one namespace (or all) matching a label selector: the operator's own, to see them deleted.</summary>
    public static IResourceSource<V1NetworkPolicy> NetworkPolicies(
        IKubernetes client, string? @namespace, string? labelSelector, int watchTimeoutSeconds = DefaultWatchTimeoutSeconds)
    {
        ArgumentNullException.ThrowIfNull(client);
        return new DelegateSource<V1NetworkPolicy>(
            async ct =>
            {
                var list = @namespace is null
                    ? await client.NetworkingV1.ListNetworkPolicyForAllNamespacesAsync(labelSelector: labelSelector, cancellationToken: ct).ConfigureAwait(false)
                    : await client.NetworkingV1.ListNamespacedNetworkPolicyAsync(@namespace, labelSelector: labelSelector, cancellationToken: ct).ConfigureAwait(false);
                return ([.. list.Items ?? []], list.Metadata?.ResourceVersion ?? "");
            },
            (from, onError, ct) => @namespace is null
                ? client.NetworkingV1.WatchListNetworkPolicyForAllNamespacesAsync(
                    allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: from,
                    timeoutSeconds: watchTimeoutSeconds, onError: onError, cancellationToken: ct)
                : client.NetworkingV1.WatchListNamespacedNetworkPolicyAsync(
                    @namespace, allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: from,
                    timeoutSeconds: watchTimeoutSeconds, onError: onError, cancellationToken: ct));
    }

    /// <summary>
    /// Custom objects of <paramref name="group"/>/<paramref name="version"/> <paramref name="plural"/>, in one
    /// namespace or cluster-wide. The client returns them untyped (JSON), so they are deserialized here.
    /// </summary>
    public static IResourceSource<T> Custom<T>(
        IKubernetes client,
        string group,
        string version,
        string plural,
        string? @namespace,
        string? labelSelector = null,
        int watchTimeoutSeconds = DefaultWatchTimeoutSeconds)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(client);
        return new DelegateSource<T>(
            async ct =>
            {
                var raw = @namespace is null
                    ? await client.CustomObjects.ListClusterCustomObjectAsync(
                        group, version, plural, labelSelector: labelSelector, cancellationToken: ct).ConfigureAwait(false)
                    : await client.CustomObjects.ListNamespacedCustomObjectAsync(
                        group, version, @namespace, plural, labelSelector: labelSelector, cancellationToken: ct).ConfigureAwait(false);
                var list = Convert<KubernetesList<T>>(raw);
                return ([.. list.Items ?? []], list.Metadata?.ResourceVersion ?? "");
            },
            (from, onError, ct) => Typed<T>(
                @namespace is null
                    ? client.CustomObjects.WatchListClusterCustomObjectAsync(
                        group, version, plural, allowWatchBookmarks: true, labelSelector: labelSelector,
                        resourceVersion: from, timeoutSeconds: watchTimeoutSeconds, onError: onError, cancellationToken: ct)
                    : client.CustomObjects.WatchListNamespacedCustomObjectAsync(
                        group, version, @namespace, plural, allowWatchBookmarks: true, labelSelector: labelSelector,
                        resourceVersion: from, timeoutSeconds: watchTimeoutSeconds, onError: onError, cancellationToken: ct),
                ct));
    }

    private static async IAsyncEnumerable<(WatchEventType Type, T Object)> Typed<T>(
        IAsyncEnumerable<(WatchEventType Type, object Object)> events,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var (type, raw) in events.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return (type, Convert<T>(raw));
        }
    }

    private static TOut Convert<TOut>(object raw) =>
        (raw is JsonElement element ? KubernetesJson.Deserialize<TOut>(element.GetRawText()) : KubernetesJson.Deserialize<TOut>(KubernetesJson.Serialize(raw)))
        ?? throw new JsonException($"The server sent an empty {typeof(TOut).Name}.");
}
