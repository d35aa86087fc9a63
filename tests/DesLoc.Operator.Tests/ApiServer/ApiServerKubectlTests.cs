using System.Text.Json.Nodes;
using DesLoc.Testing.Kubernetes;
using k8s;
using k8s.Models;

namespace DesLoc.Operator.Tests.ApiServer;

/// <summary>kubectl (Debian's 1.20 in CI) against the test API server: apply a CRD and an object, get, delete, and a 422.</summary>
public sealed class ApiServerKubectlTests : IDisposable
{
    private const string WidgetYaml = """
        apiVersion: example.dev/v1
        kind: Widget
        metadata:
          name: w1
          namespace: team-a
          labels:
            app: demo
        spec:
          size: 3
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("desloc-kubectl-").FullName;

    public ApiServerKubectlTests()
    {
        File.WriteAllText(Path.Combine(_dir, "crd.yaml"), Widgets.CrdYaml);
        File.WriteAllText(Path.Combine(_dir, "widget.yaml"), WidgetYaml);
    }

    [Fact]
    public async Task Kubectl_AppliesCrdAndObject_GetsAndDeletes()
    {
        await using TestApiServer server = await TestApiServer.StartAsync();

        await Ok(server, "apply", "-f", "crd.yaml");
        await Ok(server, "apply", "-f", "widget.yaml");
        Assert.Equal(3, server.Get(Widgets.ApiVersion, Widgets.Plural, "team-a", "w1")!["spec"]!["size"]!.GetValue<int>());
        File.WriteAllText(Path.Combine(_dir, "widget.yaml"), WidgetYaml.Replace("size: 3", "size: 4", StringComparison.Ordinal));
        await Ok(server, "apply", "-f", "widget.yaml");
        Assert.Equal(4, server.Get(Widgets.ApiVersion, Widgets.Plural, "team-a", "w1")!["spec"]!["size"]!.GetValue<int>());
        Assert.Equal(1, server.CountRequests("PATCH", "/namespaces/team-a/widgets/w1"));
        using IKubernetes client = server.CreateClient();
        await client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(
            new V1Patch("""{"status":{"phase":"Running"}}""", V1Patch.PatchType.MergePatch),
            Widgets.Group, Widgets.Version, "team-a", Widgets.Plural, "w1");

        JsonNode list = JsonNode.Parse(await Ok(server, "get", "widgets", "-n", "team-a", "-o", "json"))!;
        string table = await Ok(server, "get", "wd", "-n", "team-a");
        await Ok(server, "delete", "-n", "team-a", "widget", "w1");

        JsonNode item = Assert.Single(list["items"]!.AsArray())!;
        Assert.Equal("w1", item["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal("demo", item["metadata"]!["labels"]!["app"]!.GetValue<string>());
        string[] lines = table.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["NAME", "PHASE", "SIZE", "AGE"], lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["w1", "Running", "4"], lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[..3]);
        Assert.Null(server.Get(Widgets.ApiVersion, Widgets.Plural, "team-a", "w1"));
    }

    [Fact]
    public async Task Kubectl_ShowsA422WithTheFieldNamed()
    {
        await using TestApiServer server = await TestApiServer.StartAsync(new TestApiServerOptions
        {
            ValidateCustomObject = (_, obj, _) => obj["spec"]?["size"]?.GetValue<int>() > 2
                ? [new FieldViolation("spec.size", "Invalid value: 3: must be less than or equal to 2")]
                : [],
        });
        await Ok(server, "apply", "-f", "crd.yaml");

        (int code, _, string stderr) = await Kubectl.RunAsync(server, _dir, "apply", "-f", "widget.yaml");

        Assert.NotEqual(0, code);
        Assert.Contains("spec.size: Invalid value: 3: must be less than or equal to 2", stderr, StringComparison.Ordinal);
        Assert.Contains("is invalid", stderr, StringComparison.Ordinal);
        Assert.Empty(server.List(Widgets.ApiVersion, Widgets.Plural));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private async Task<string> Ok(TestApiServer server, params string[] args)
    {
        (int code, string stdout, string stderr) = await Kubectl.RunAsync(server, _dir, args);
        Assert.True(code == 0, $"kubectl {string.Join(' ', args)} exited {code}: {stderr}{stdout}");
        return stdout;
    }
}
