using System.Text.Json.Nodes;

namespace DesLoc.Testing.Kubernetes;

/// <summary>
/// The discovery documents kubectl and clients read before touching a resource: <c>/version</c>, <c>/api</c>,
/// <c>/api/v1</c>, <c>/apis</c>, <c>/apis/GROUP</c> and <c>/apis/GROUP/VERSION</c>, built from the catalog as it is now.
/// </summary>
internal static class Discovery
{
    private static readonly string[] s_verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
    private static readonly string[] s_statusVerbs = ["get", "patch", "update"];

    public static JsonObject Version() => new()
    {
        ["major"] = "1",
        ["minor"] = "30",
        ["gitVersion"] = "v1.30.0-desloc-test",
        ["gitCommit"] = "0000000000000000000000000000000000000000",
        ["gitTreeState"] = "clean",
        ["buildDate"] = "2024-04-17T00:00:00Z",
        ["goVersion"] = "go1.22.2",
        ["compiler"] = "gc",
        ["platform"] = "linux/amd64",
    };

    public static JsonObject CoreVersions(string serverAddress) => new()
    {
        ["kind"] = "APIVersions",
        ["versions"] = new JsonArray("v1"),
        ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = serverAddress }),
    };

    public static JsonObject GroupList(ResourceCatalog catalog) => new()
    {
        ["kind"] = "APIGroupList",
        ["apiVersion"] = "v1",
        ["groups"] = new JsonArray([.. Groups(catalog).Select(g => (JsonNode)g)]),
    };

    public static JsonObject? Group(ResourceCatalog catalog, string name)
    {
        JsonObject? group = Groups(catalog).FirstOrDefault(g => g["name"]!.GetValue<string>() == name);
        if (group is not null)
        {
            group["kind"] = "APIGroup";
            group["apiVersion"] = "v1";
        }

        return group;
    }

    /// <summary>The APIResourceList of one group version; null when nothing is served there.</summary>
    public static JsonObject? Resources(ResourceCatalog catalog, string group, string version)
    {
        List<ResourceType> types = [.. catalog.All().Where(t => t.Group == group && t.Version == version)];
        if (types.Count == 0)
        {
            return null;
        }

        var resources = new JsonArray();
        foreach (ResourceType type in types)
        {
            resources.Add(new JsonObject
            {
                ["name"] = type.Plural,
                ["singularName"] = type.Singular,
                ["namespaced"] = type.Namespaced,
                ["kind"] = type.Kind,
                ["verbs"] = new JsonArray([.. s_verbs.Select(v => (JsonNode)v)]),
                ["shortNames"] = new JsonArray([.. type.ShortNames.Select(s => (JsonNode)s)]),
            });
            if (type.HasStatus)
            {
                resources.Add(new JsonObject
                {
                    ["name"] = type.Plural + "/status",
                    ["singularName"] = "",
                    ["namespaced"] = type.Namespaced,
                    ["kind"] = type.Kind,
                    ["verbs"] = new JsonArray([.. s_statusVerbs.Select(v => (JsonNode)v)]),
                });
            }
        }

        return new JsonObject
        {
            ["kind"] = "APIResourceList",
            ["apiVersion"] = "v1",
            ["groupVersion"] = types[0].ApiVersion,
            ["resources"] = resources,
        };
    }

    private static IEnumerable<JsonObject> Groups(ResourceCatalog catalog) =>
        catalog.All()
            .Where(t => t.Group.Length > 0)
            .GroupBy(t => t.Group)
            .Select(g =>
            {
                List<string> versions = [.. g.Select(t => t.Version).Distinct()];
                JsonObject Entry(string v) => new() { ["groupVersion"] = $"{g.Key}/{v}", ["version"] = v };
                return new JsonObject
                {
                    ["name"] = g.Key,
                    ["versions"] = new JsonArray([.. versions.Select(v => (JsonNode)Entry(v))]),
                    ["preferredVersion"] = Entry(versions[0]),
                };
            });
}
