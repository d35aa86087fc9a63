using System.Text.Json.Nodes;
using DesLoc.Operator.Tests.Chart;
using DesLoc.Testing.Kubernetes;
using DesLoc.Testing.Kubernetes.Validation;

namespace DesLoc.Operator.Tests.Validation;

/// <summary>
/// kube-apiserver refused the CRD whose nested objects defaulted to <c>{}</c>: it checks every default against the
/// CEL rules of its node as written, before filling in nested defaults. The test kit now does the same, and the
/// generator writes complete defaults.
/// </summary>
public sealed class CrdDefaultsTests
{
    private static readonly string s_crdPath = RepoFiles.Path("crds", "desloc.dev_lowcommjobs.yaml");

    [Fact]
    public void EmptyObjectDefaults_AreRefused_WithTheApiServersMessages()
    {
        JsonNode crd = WithEmptyObjectDefaults(RepoFiles.YamlFile(s_crdPath));

        string[] violations = [.. StructuralSchema.ValidateCrdDefaults(crd).Select(v => v.ToString()).Order()];

        const string Spec = "spec.validation.openAPIV3Schema.properties[spec]";
        Assert.Equal(
            [
                $"{Spec}.properties[algorithm].properties[dct].default: Invalid value: \"object\": no such key: topK evaluating rule: topK must not exceed a block: chunk*chunk with tensor blocks, chunk with flat ones",
                $"{Spec}.properties[faultTolerance].properties[backoff].default: Invalid value: \"object\": no such key: initialSeconds evaluating rule: initialSeconds must not exceed maxSeconds",
                $"{Spec}.properties[model].default: Invalid value: \"object\": no such key: dim evaluating rule: dim must be a multiple of heads",
                $"{Spec}.properties[sync].properties[adaptive].default: Invalid value: \"object\": no such key: minPeriod evaluating rule: minPeriod must not exceed maxPeriod",
            ],
            violations);
    }

    [Fact]
    public void GeneratedCrd_DefaultsPassTheApiServersChecks() =>
        Assert.Empty(StructuralSchema.ValidateCrdDefaults(RepoFiles.YamlFile(s_crdPath)));

    /// <summary>A complete default is what the API server makes of <c>{}</c> at that node, so writing it changes nothing.</summary>
    [Fact]
    public void EveryObjectDefault_IsWhatDefaultingAnEmptyObjectGives()
    {
        JsonNode schema = RepoFiles.YamlFile(s_crdPath)["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!;
        var checkedNodes = new List<string>();
        foreach ((string path, JsonObject node) in ObjectDefaults(schema, "openAPIV3Schema"))
        {
            JsonNode filled = new JsonObject();
            StructuralSchema.ApplyDefaults(filled, node);
            Assert.True(JsonNode.DeepEquals(node["default"], filled), $"{path}: default {node["default"]!.ToJsonString()} but {{}} defaults to {filled.ToJsonString()}");
            checkedNodes.Add(path);
        }

        Assert.Contains(checkedNodes, p => p.EndsWith(".adaptive", StringComparison.Ordinal));
        Assert.True(checkedNodes.Count >= 10, string.Join(", ", checkedNodes));
    }

    /// <summary>kubectl apply of such a CRD fails against the test API server as it failed against a real one; today's file installs.</summary>
    [Fact]
    public async Task KubectlApply_RefusesEmptyObjectDefaults_AndInstallsTheGeneratedCrd()
    {
        await using TestApiServer server = await TestApiServer.StartAsync();
        string home = Directory.CreateTempSubdirectory("desloc-kubectl-home-").FullName;
        try
        {
            Task<ToolResult> Kubectl(params string[] arguments) => Tool.RunAsync("kubectl", "kubernetes-client",
                [.. arguments, "--server", server.BaseAddress.ToString().TrimEnd('/'), "--validate=false"],
                environment: new Dictionary<string, string> { ["HOME"] = home, ["KUBECONFIG"] = Path.Combine(home, "config") });
            string broken = Path.Combine(home, "crd.json");
            File.WriteAllText(broken, WithEmptyObjectDefaults(RepoFiles.YamlFile(s_crdPath)).ToJsonString());

            ToolResult refused = await Kubectl("apply", "-f", broken);
            ToolResult installed = await Kubectl("apply", "-f", s_crdPath);

            Assert.NotEqual(0, refused.ExitCode);
            Assert.Contains("no such key: minPeriod evaluating rule: minPeriod must not exceed maxPeriod", refused.Output);
            Assert.True(installed.ExitCode == 0, $"kubectl apply -f crds/: {installed}");
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    /// <summary>The CRD as the generator wrote it before: every nested object defaulting to <c>{}</c>.</summary>
    private static JsonNode WithEmptyObjectDefaults(JsonNode crd)
    {
        JsonNode schema = crd["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!;
        foreach ((_, JsonObject node) in ObjectDefaults(schema, ""))
        {
            node["default"] = new JsonObject();
        }

        return crd;
    }

    private static List<(string Path, JsonObject Node)> ObjectDefaults(JsonNode schema, string path)
    {
        var found = new List<(string, JsonObject)>();
        if (schema is JsonObject node)
        {
            if (node["default"] is JsonObject)
            {
                found.Add((path, node));
            }

            foreach (var (name, child) in node["properties"] as JsonObject ?? [])
            {
                found.AddRange(ObjectDefaults(child!, $"{path}.{name}"));
            }
        }

        return found;
    }
}
