using k8s;
using k8s.Models;

namespace DesLoc.Operator.Kubernetes;

/// <summary>The key of an object in caches and work queues: <c>namespace/name</c>, or <c>name</c> when cluster-scoped.</summary>
public static class ObjectKey
{
    public static string Of(string? @namespace, string name) =>
        string.IsNullOrEmpty(@namespace) ? name : $"{@namespace}/{name}";

    public static string Of(IKubernetesObject<V1ObjectMeta> obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        return Of(obj.Metadata?.NamespaceProperty, obj.Metadata?.Name ?? "");
    }

    /// <summary>Splits a key back into namespace (null when cluster-scoped) and name.</summary>
    public static (string? Namespace, string Name) Split(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? (null, key) : (key[..slash], key[(slash + 1)..]);
    }
}
