using System.Text.Json.Nodes;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Local;
using DesLoc.Testing.Kubernetes;
using DesLoc.Testing.Kubernetes.Validation;

namespace DesLoc.Operator.Tests.Chart;

/// <summary>
/// samples/ holds manifests users copy: each is checked the way `desloc run` checks it (C#), the way the API server
/// would (the CRD's structural schema and CEL rules), and by kubectl against a test API server with that validation.
/// </summary>
public sealed class SampleManifestTests
{
    public static TheoryData<string> SampleFiles() => [.. RepoFiles.Samples().Select(Path.GetFileName).Select(name => name!)];

    [Fact]
    public void Samples_CoverEveryAlgorithm_GpusAndAdaptivePeriods()
    {
        Assert.Superset(new HashSet<string>(["quickstart.yaml", "desloc.yaml", "diloco.yaml", "palsgd.yaml", "dct-momentum.yaml", "gpu.yaml", "adaptive.yaml"]),
            RepoFiles.Samples().Select(path => Path.GetFileName(path)).ToHashSet());
        var jobs = RepoFiles.Samples().Select(ManifestLoader.Load).ToList();
        Assert.Superset(new HashSet<AlgorithmType>([AlgorithmType.DESLOC, AlgorithmType.DiLoCo, AlgorithmType.PALSGD, AlgorithmType.DCTMomentum]),
            jobs.Select(j => j.Spec.Algorithm.Type).ToHashSet());
        Assert.Contains(jobs, j => j.Spec.Sync.Adaptive.Enabled);

        JsonNode gpu = RepoFiles.YamlFile(RepoFiles.Path("samples", "gpu.yaml"));
        JsonNode pod = gpu["spec"]!["template"]!["spec"]!;
        JsonNode trainer = pod["containers"]!.AsArray().Single(c => (string)c!["name"]! == "trainer")!;
        Assert.Equal(1, (long)trainer["resources"]!["limits"]!["nvidia.com/gpu"]!);
        Assert.NotEmpty(pod["nodeSelector"]!.AsObject());
        Assert.Contains(pod["tolerations"]!.AsArray(), t => (string)t!["key"]! == "nvidia.com/gpu");
    }

    [Theory]
    [MemberData(nameof(SampleFiles))]
    public void Sample_StartsWithACommentAndLoadsAsTheOperatorChecksIt(string file)
    {
        string path = RepoFiles.Path("samples", file);
        LowCommJob job = ManifestLoader.Load(path);

        Assert.StartsWith("# ", File.ReadAllText(path), StringComparison.Ordinal);
        Assert.Equal(Path.GetFileNameWithoutExtension(file) is "gpu" ? "gpt-gpu" : Path.GetFileNameWithoutExtension(file), job.Metadata.Name);
    }

    [Theory]
    [MemberData(nameof(SampleFiles))]
    public void Sample_PassesTheCrdSchemaAndCelRules_WithNothingPruned(string file)
    {
        JsonNode schema = CrdSchema();
        JsonNode sample = RepoFiles.YamlFile(RepoFiles.Path("samples", file));

        IReadOnlyList<string> pruned = StructuralSchema.Prune(sample, schema);
        StructuralSchema.ApplyDefaults(sample, schema);
        IReadOnlyList<FieldViolation> violations = StructuralSchema.Validate(sample, schema);

        Assert.Empty(pruned);
        Assert.Empty(violations);
    }

    [Fact]
    public void CrdSchema_RefusesABrokenSample()
    {
        // The check above must be able to fail: DES-LOC's ku has to be a multiple of kx.
        JsonNode sample = RepoFiles.YamlFile(RepoFiles.Path("samples", "desloc.yaml"));
        sample["spec"]!["algorithm"]!["desloc"]!["ku"] = 50;
        sample["spec"]!["algorithm"]!["desloc"]!["kz"] = 3;
        JsonNode schema = CrdSchema();
        IReadOnlyList<string> pruned = StructuralSchema.Prune(sample, schema);
        StructuralSchema.ApplyDefaults(sample, schema);

        Assert.Equal("desloc", sample["metadata"]!["name"]!.GetValue<string>());
        Assert.Contains(pruned, path => path.EndsWith("desloc.kz", StringComparison.Ordinal));
        Assert.Contains(StructuralSchema.Validate(sample, schema), v => v.Field == "spec.algorithm.desloc.ku");
    }

    /// <summary>
    /// kubectl reads the kind's REST mapping from discovery even for a client dry run, so the CRD is applied to a test
    /// API server first; that server validates custom objects with the CRD's schema and CEL rules, so the real
    /// `kubectl create` afterwards is also the API server's verdict on each sample.
    /// </summary>
    [Fact]
    public async Task Samples_KubectlDryRunsAndCreatesThem_AgainstAnApiServerWithTheCrd()
    {
        await using TestApiServer server = await TestApiServer.StartAsync(new TestApiServerOptions
        {
            ApplyDefaults = (schema, obj) => StructuralSchema.ApplyDefaults(obj, schema),
            ValidateCustomObject = (schema, obj, old) => StructuralSchema.Validate(obj, schema, old),
        });
        string home = Directory.CreateTempSubdirectory("desloc-kubectl-home-").FullName;
        try
        {
            Task<ToolResult> Kubectl(params string[] arguments) => Tool.RunAsync("kubectl", "kubernetes-client",
                [.. arguments, "--server", server.BaseAddress.ToString().TrimEnd('/'), "--validate=false"],
                environment: new Dictionary<string, string> { ["HOME"] = home, ["KUBECONFIG"] = Path.Combine(home, "config") });

            ToolResult crd = await Kubectl("apply", "-f", RepoFiles.Path("crds", "desloc.dev_lowcommjobs.yaml"));
            Assert.True(crd.ExitCode == 0, $"kubectl apply of the CRD: {crd}");

            foreach (string path in RepoFiles.Samples())
            {
                string name = (string)RepoFiles.YamlFile(path)["metadata"]!["name"]!;
                ToolResult dryRun = await Kubectl("create", "--dry-run=client", "-o", "json", "-f", path);
                Assert.True(dryRun.ExitCode == 0, $"kubectl create --dry-run=client -f {path}: {dryRun}");
                JsonNode printed = JsonNode.Parse(dryRun.StandardOutput)!;
                Assert.Equal("LowCommJob", (string)printed["kind"]!);
                Assert.Equal(name, (string)printed["metadata"]!["name"]!);

                ToolResult created = await Kubectl("create", "-n", "default", "-f", path);
                Assert.True(created.ExitCode == 0, $"kubectl create -f {path}: {created}");
                Assert.NotNull(server.Get(LowCommJob.GroupVersion, "lowcommjobs", "default", name));
            }

            // The same server refuses a broken manifest, naming the field: the creates above were really validated.
            string broken = Path.Combine(home, "broken.yaml");
            File.WriteAllText(broken, File.ReadAllText(RepoFiles.Path("samples", "desloc.yaml"))
                .Replace("name: desloc", "name: broken", StringComparison.Ordinal).Replace("ku: 96", "ku: 50", StringComparison.Ordinal));
            ToolResult refused = await Kubectl("create", "-n", "default", "-f", broken);
            Assert.NotEqual(0, refused.ExitCode);
            Assert.Contains("spec.algorithm.desloc.ku", refused.Output);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    private static JsonNode CrdSchema() =>
        RepoFiles.YamlFile(RepoFiles.Path("crds", "desloc.dev_lowcommjobs.yaml"))["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!;
}
