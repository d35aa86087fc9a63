using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Api.Schema;
using DesLoc.Testing;
using k8s;
using k8s.Models;

namespace DesLoc.Operator.Tests.Api;

/// <summary>crds/ is generated from the C# types; these tests fail when the two drift apart.</summary>
public sealed class CrdDriftTests
{
    [Fact]
    public void CommittedCrd_EqualsTheOneGeneratedFromTheTypes()
    {
        string committed = File.ReadAllText(RepositoryFiles.Path("crds", CrdGenerator.FileName));
        Assert.True(committed == CrdGenerator.LowCommJobYaml(),
            "crds/ is out of date: run `dotnet run --project operator/DesLoc.Operator -- crd --output crds` and commit the result.");
    }

    [Fact]
    public void GeneratedCrd_HasDefaultsRangesEnumsRulesStatusAndPrinterColumns()
    {
        V1CustomResourceDefinition crd = KubernetesYaml.Deserialize<V1CustomResourceDefinition>(CrdGenerator.LowCommJobYaml());
        V1CustomResourceDefinitionVersion version = Assert.Single(crd.Spec.Versions);
        V1JSONSchemaProps spec = version.Schema.OpenAPIV3Schema.Properties["spec"];
        Assert.Equal(["lcj"], crd.Spec.Names.ShortNames);
        Assert.NotNull(version.Subresources.Status);
        Assert.Equal(1.0, spec.Properties["replicas"].Minimum);
        Assert.Contains("DCTMomentum", spec.Properties["algorithm"].Properties["type"].EnumProperty.Select(v => v.ToString()));
        Assert.Equal("DESLOC", spec.Properties["algorithm"].Properties["type"].DefaultProperty?.ToString());
        Assert.Contains(spec.Properties["algorithm"].Properties["desloc"].XKubernetesValidations, r => r.Rule.Contains("self.ku % self.kx == 0", StringComparison.Ordinal));
        Assert.Contains(spec.XKubernetesValidations, r => r.Rule.Contains("c.name == 'trainer'", StringComparison.Ordinal));
        Assert.Contains(spec.XKubernetesValidations, r => r.Rule.Contains("size(self.placement.replicas) <= self.replicas", StringComparison.Ordinal) && r.FieldPath == ".placement.replicas");
        Assert.Equal(["Phase", "Ready", "Workers", "Step", "Loss", "Reduction", "Restarts", "Age"], version.AdditionalPrinterColumns.Select(c => c.Name));
        Assert.Equal(".status.workersReady", version.AdditionalPrinterColumns.Single(c => c.Name == "Workers").JsonPath);
        Assert.Contains("template", spec.Required);
    }

    [Fact]
    public void Job_RoundTripsThroughKubernetesJson_WithCamelCaseFields()
    {
        var job = new LowCommJob
        {
            Metadata = new V1ObjectMeta { Name = "j" },
            Spec = new LowCommJobSpec { Replicas = 3, Algorithm = new AlgorithmSpec { Type = AlgorithmType.DCTMomentum, Dct = new DctSettings { TopK = 8 } } },
            Status = new LowCommJobStatus { Phase = JobPhase.Restarting, Replicas = [new ReplicaStatus { Index = 1, Restarts = 2 }] },
        };
        string json = KubernetesJson.Serialize(job);
        Assert.Contains("\"topK\":8", json);
        Assert.Contains("\"type\":\"DCTMomentum\"", json);
        Assert.Contains("\"phase\":\"Restarting\"", json);
        LowCommJob back = KubernetesJson.Deserialize<LowCommJob>(json);
        Assert.Equal(8, back.Spec.Algorithm.Dct.TopK);
        Assert.Equal(2, back.Status!.Replicas[0].Restarts);
    }
}
