using System.Text.Json.Nodes;

namespace DesLoc.Testing.Kubernetes;

/// <summary>
/// The Pod Security admission plugin's <c>restricted</c> level (k8s.io/pod-security-admission, policy checks of the
/// baseline and restricted levels), as far as a Linux trainer pod can meet them, each violation worded as the plugin
/// words it. Covered: privileged, host namespaces, hostPort, volume types (hostPath among them),
/// allowPrivilegeEscalation, runAsNonRoot, runAsUser=0, seccompProfile, and capabilities (drop ALL, add at most
/// NET_BIND_SERVICE). Not covered: sysctls, AppArmor, SELinux options, procMount, Windows pods, and the
/// <c>audit</c>/<c>warn</c> modes and version pinning (every check is "latest").
/// </summary>
internal static class PodSecurity
{
    public const string EnforceLabel = "pod-security.kubernetes.io/enforce";

    private static readonly HashSet<string> s_allowedVolumeTypes =
        ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];

    public static IReadOnlyList<string> RestrictedViolations(JsonObject pod)
    {
        JsonNode? spec = pod["spec"];
        JsonNode? podContext = spec?["securityContext"];
        List<(string Name, JsonNode? Context, JsonNode Container)> containers =
            [.. new[] { "initContainers", "containers" }.SelectMany(list => spec?[list] as JsonArray ?? [])
                .OfType<JsonNode>().Select(c => (c["name"]?.GetValue<string>() ?? "", c["securityContext"], c))];
        var violations = new List<string>();

        Containers(violations, containers.Where(c => Bool(c.Context?["privileged"]) == true), "privileged", "must not set securityContext.privileged=true");
        string[] hostNamespaces = [.. new[] { "hostNetwork", "hostPID", "hostIPC" }.Where(h => Bool(spec?[h]) == true).Select(h => $"{h}=true")];
        if (hostNamespaces.Length > 0)
        {
            violations.Add($"host namespaces ({string.Join(", ", hostNamespaces)})");
        }

        string[] hostPorts = [.. containers.SelectMany(c => (c.Container["ports"] as JsonArray ?? []).OfType<JsonNode>()
            .Where(p => p["hostPort"] is { } port && port.GetValue<int>() != 0).Select(p => $"container \"{c.Name}\" uses hostPort {p["hostPort"]}"))];
        if (hostPorts.Length > 0)
        {
            violations.Add($"hostPort ({string.Join(", ", hostPorts)})");
        }

        var restrictedVolumes = (spec?["volumes"] as JsonArray ?? []).OfType<JsonObject>()
            .Select(v => (Name: v["name"]?.GetValue<string>() ?? "", Type: v.Select(p => p.Key).FirstOrDefault(k => k != "name") ?? ""))
            .Where(v => !s_allowedVolumeTypes.Contains(v.Type)).ToList();
        if (restrictedVolumes.Count > 0)
        {
            violations.Add($"restricted volume types ({string.Join(", ", restrictedVolumes.Select(v => $"volume \"{v.Name}\" uses restricted volume type \"{v.Type}\""))})");
        }

        Containers(violations, containers.Where(c => Bool(c.Context?["allowPrivilegeEscalation"]) != false),
            "allowPrivilegeEscalation != false", "must set securityContext.allowPrivilegeEscalation=false");
        Containers(violations, containers.Where(c => !Dropped(c.Context)),
            "unrestricted capabilities", "must set securityContext.capabilities.drop=[\"ALL\"]");
        Containers(violations, containers.Where(c => (c.Context?["capabilities"]?["add"] as JsonArray ?? []).Any(a => a?.GetValue<string>() != "NET_BIND_SERVICE")),
            "unrestricted capabilities", "must not include capabilities other than NET_BIND_SERVICE in securityContext.capabilities.add");
        bool podNonRoot = Bool(podContext?["runAsNonRoot"]) == true;
        var rootable = containers.Where(c => Bool(c.Context?["runAsNonRoot"]) is false || (!podNonRoot && Bool(c.Context?["runAsNonRoot"]) is null)).ToList();
        if (rootable.Count > 0)
        {
            violations.Add($"runAsNonRoot != true (pod or {Names(rootable)} must set securityContext.runAsNonRoot=true)");
        }

        Containers(violations, containers.Where(c => c.Context?["runAsUser"]?.GetValue<long>() == 0 || (c.Context?["runAsUser"] is null && podContext?["runAsUser"]?.GetValue<long>() == 0)),
            "runAsUser=0", "must not set runAsUser=0");
        string? podSeccomp = podContext?["seccompProfile"]?["type"]?.GetValue<string>();
        var unconfined = containers.Where(c => (c.Context?["seccompProfile"]?["type"]?.GetValue<string>() ?? podSeccomp) is not ("RuntimeDefault" or "Localhost")).ToList();
        if (unconfined.Count > 0)
        {
            violations.Add($"seccompProfile (pod or {Names(unconfined)} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")");
        }

        return violations;
    }

    private static void Containers(List<string> violations, IEnumerable<(string Name, JsonNode? Context, JsonNode Container)> failing, string check, string what)
    {
        var list = failing.ToList();
        if (list.Count > 0)
        {
            violations.Add($"{check} ({Names(list)} {what})");
        }
    }

    private static string Names(List<(string Name, JsonNode? Context, JsonNode Container)> containers) =>
        containers.Count == 1 ? $"container \"{containers[0].Name}\"" : $"containers {string.Join(", ", containers.Select(c => $"\"{c.Name}\""))}";

    private static bool Dropped(JsonNode? context) =>
        (context?["capabilities"]?["drop"] as JsonArray ?? []).Any(d => d?.GetValue<string>() == "ALL");

    private static bool? Bool(JsonNode? node) => node is JsonValue value && value.TryGetValue(out bool b) ? b : null;
}
