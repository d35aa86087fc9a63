using System.Globalization;
using System.Text.Json.Nodes;

namespace DesLoc.Testing.Kubernetes;

/// <summary>
/// The status a kubelet would report for a pod in a phase, for tests to set since no kubelet runs pods:
/// conditions, and per container <c>state.waiting</c>, <c>state.running</c> or <c>state.terminated</c>.
/// </summary>
internal static class PodStatuses
{
    public static void Apply(JsonObject pod, string phase, int? exitCode, string? reason)
    {
        string now = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        JsonObject old = pod["status"] as JsonObject ?? [];
        string started = old["startTime"]?.GetValue<string>() ?? now;
        bool running = phase == "Running";
        bool finished = phase is "Succeeded" or "Failed";
        int code = exitCode ?? (phase == "Failed" ? 1 : 0);

        var containers = new JsonArray();
        foreach (JsonNode? container in pod["spec"]?["containers"] as JsonArray ?? [new JsonObject { ["name"] = "main" }])
        {
            string name = container?["name"]?.GetValue<string>() ?? "main";
            string containerId = "containerd://" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
            JsonObject state = phase switch
            {
                "Running" => new JsonObject { ["running"] = new JsonObject { ["startedAt"] = started } },
                "Succeeded" or "Failed" => new JsonObject
                {
                    ["terminated"] = new JsonObject
                    {
                        ["exitCode"] = code,
                        ["reason"] = reason ?? (code == 0 ? "Completed" : "Error"),
                        ["startedAt"] = started,
                        ["finishedAt"] = now,
                        ["containerID"] = containerId,
                    },
                },
                _ => new JsonObject { ["waiting"] = new JsonObject { ["reason"] = reason ?? "ContainerCreating" } },
            };
            var status = new JsonObject
            {
                ["name"] = name,
                ["image"] = container?["image"]?.DeepClone() ?? "",
                ["imageID"] = "",
                ["ready"] = running,
                ["started"] = running,
                ["restartCount"] = 0,
                ["state"] = state,
            };
            if (running || finished)
            {
                // A waiting container has not been created yet, so it has no ID.
                status["containerID"] = containerId;
            }

            containers.Add(status);
        }

        string ready = running ? "True" : "False";
        pod["status"] = new JsonObject
        {
            ["phase"] = phase,
            ["conditions"] = new JsonArray(
                Condition("PodScheduled", "True", now),
                Condition("Initialized", "True", now),
                Condition("ContainersReady", ready, now),
                Condition("Ready", ready, now)),
            ["hostIP"] = "10.0.0.1",
            ["podIP"] = "10.244.0." + ((uint)pod["metadata"]!["name"]!.GetValue<string>().GetHashCode() % 250 + 2).ToString(CultureInfo.InvariantCulture),
            ["startTime"] = started,
            ["containerStatuses"] = containers,
        };
    }

    private static JsonObject Condition(string type, string status, string now) =>
        new() { ["type"] = type, ["status"] = status, ["lastTransitionTime"] = now };
}
