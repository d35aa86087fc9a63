using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Local;
using DesLoc.Testing;

namespace DesLoc.Operator.Tests.Local;

public sealed class ManifestLoaderTests
{
    private const string Header = """
        apiVersion: desloc.dev/v1alpha1
        kind: LowCommJob
        metadata:
          name: m
        spec:
          template:
            spec:
              containers:
                - name: trainer
                  image: trainer

        """;

    [Fact]
    public void Quickstart_Loads_WithItsValuesAndTheDefaultsForTheRest()
    {
        LowCommJob job = ManifestLoader.Load(RepositoryFiles.Path("samples", "quickstart.yaml"));
        Assert.Equal(("quickstart", 4, AlgorithmType.DESLOC, 48), (job.Metadata.Name, job.Spec.Replicas, job.Spec.Algorithm.Type, job.Spec.Algorithm.Desloc.Ku));
        Assert.Equal(0.7, job.Spec.Algorithm.Diloco.OuterLr);
    }

    [Fact]
    public void Parse_AModelTooLargeForThisMachine_IsRefusedWithTheNumbers()
    {
        // What a new user tries: a 4096-wide, 64-layer model on a laptop. Refused before any process starts.
        ManifestException error = Assert.Throws<ManifestException>(() => ManifestLoader.Parse(Header + "  model:\n    dim: 4096\n    layers: 64\n    heads: 32", "job.yaml"));

        Assert.Contains("spec.model: 4 worker processes need", error.Message);
        Assert.Contains("GiB", error.Message);
        Assert.Contains("this machine has", error.Message);
    }

    [Theory]
    [InlineData("  algorithm:\n    deslco:\n      kx: 4", "spec.algorithm.deslco: unknown field")]
    [InlineData("  algorithm:\n    dct:\n      chunk: 4\n      topK: 32", "spec.algorithm.dct.topK: topK must not exceed a block")]
    [InlineData("  replicas: 0", "spec.replicas: must be in [1, 1024]")]
    [InlineData("  algorithm:\n    type: Gossip", "spec.algorithm.type")]
    [InlineData("  training: [1, 2]", "spec.training")]
    public void BadManifests_AreRefusedWithTheFieldNamed(string spec, string expected)
    {
        ManifestException error = Assert.Throws<ManifestException>(() => ManifestLoader.Parse(Header + spec, "job.yaml"));
        Assert.Contains(expected, error.Message);
        Assert.StartsWith("job.yaml", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NotALowCommJob_IsRefused()
    {
        ManifestException error = Assert.Throws<ManifestException>(() => ManifestLoader.Parse("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n", "pod.yaml"));
        Assert.Contains("expected apiVersion desloc.dev/v1alpha1 and kind LowCommJob", error.Message);
    }
}
