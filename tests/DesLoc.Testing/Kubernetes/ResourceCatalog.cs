using System.Text.Json.Nodes;

namespace DesLoc.Testing.Kubernetes;

/// <summary>
/// The resources the server serves: the built-ins an operator touches, plus every version of every
/// CustomResourceDefinition created through the API. Thread-safe.
/// </summary>
internal sealed class ResourceCatalog
{
    private static readonly string[] s_noShortNames = [];

    private readonly Lock _gate = new();
    private readonly List<ResourceType> _builtIn;
    private readonly Dictionary<string, List<ResourceType>> _custom = new(StringComparer.Ordinal);

    public ResourceCatalog()
    {
        _builtIn =
        [
            new("", "v1", "pods", "pod", "Pod", Namespaced: true, HasStatus: true, ["po"]),
            new("", "v1", "services", "service", "Service", Namespaced: true, HasStatus: true, ["svc"]),
            new("", "v1", "secrets", "secret", "Secret", Namespaced: true, HasStatus: false, s_noShortNames),
            new("", "v1", "configmaps", "configmap", "ConfigMap", Namespaced: true, HasStatus: false, ["cm"]),
            new("", "v1", "events", "event", "Event", Namespaced: true, HasStatus: false, ["ev"]),
            new("", "v1", "namespaces", "namespace", "Namespace", Namespaced: false, HasStatus: true, ["ns"]),
            new("coordination.k8s.io", "v1", "leases", "lease", "Lease", Namespaced: true, HasStatus: false, s_noShortNames),
            new("events.k8s.io", "v1", "events", "event", "Event", Namespaced: true, HasStatus: false, ["ev"]),
            // The real server has a status stanza on NetworkPolicy since 1.24, but no status subresource.
            new("networking.k8s.io", "v1", "networkpolicies", "networkpolicy", "NetworkPolicy", Namespaced: true, HasStatus: false, ["netpol"]),
            new("apiextensions.k8s.io", "v1", "customresourcedefinitions", "customresourcedefinition", "CustomResourceDefinition",
                Namespaced: false, HasStatus: true, ["crd", "crds"]),
        ];
    }

    public static bool IsCrd(ResourceType type) => type.Group == "apiextensions.k8s.io" && type.Plural == "customresourcedefinitions";

    public IReadOnlyList<ResourceType> All()
    {
        lock (_gate)
        {
            return [.. _builtIn, .. _custom.Values.SelectMany(types => types)];
        }
    }

    public ResourceType? Find(string group, string version, string plural) =>
        All().FirstOrDefault(t => t.Group == group && t.Version == version && t.Plural == plural);

    /// <summary>Serves (or re-serves, after an update) the versions a CRD object declares; <c>served: false</c> versions are left out.</summary>
    public void Register(JsonNode crd)
    {
        string name = crd["metadata"]?["name"]?.GetValue<string>() ?? "";
        JsonNode? spec = crd["spec"];
        JsonNode? names = spec?["names"];
        string group = spec?["group"]?.GetValue<string>() ?? "";
        string plural = names?["plural"]?.GetValue<string>() ?? "";
        string kind = names?["kind"]?.GetValue<string>() ?? "";
        string singular = names?["singular"]?.GetValue<string>() ?? kind.ToLowerInvariant();
        string[] shortNames = names?["shortNames"] is JsonArray shorts ? [.. shorts.Select(s => s!.GetValue<string>())] : s_noShortNames;
        bool namespaced = spec?["scope"]?.GetValue<string>() != "Cluster";

        var types = new List<ResourceType>();
        foreach (JsonNode? version in spec?["versions"] as JsonArray ?? [])
        {
            if (version is null || version["served"]?.GetValue<bool>() == false)
            {
                continue;
            }

            types.Add(new ResourceType(
                group, version["name"]!.GetValue<string>(), plural, singular, kind, namespaced,
                HasStatus: version["subresources"]?["status"] is not null, shortNames)
            {
                Schema = version["schema"]?["openAPIV3Schema"]?.DeepClone(),
                PrinterColumns = version["additionalPrinterColumns"]?.DeepClone() as JsonArray,
                IsCustom = true,
            });
        }

        lock (_gate)
        {
            _custom[name] = types;
        }
    }

    public void Unregister(string crdName)
    {
        lock (_gate)
        {
            _custom.Remove(crdName);
        }
    }
}
