using System.Text.Json.Nodes;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Api.Schema;
using DesLoc.Contract.Validation;
using DesLoc.Operator.Api.Validation;
using DesLoc.Testing.Kubernetes.Validation;
using k8s;

namespace DesLoc.Operator.Tests.Api;

/// <summary>
/// The generated CRD's defaults are the C# initializers, and every C# rule is in the CRD as CEL at its node. The table
/// of manifests that the CRD, the operator and the trainer must judge alike is in the trainer's tests
/// (<c>ContractTableTests</c>), which see all three.
/// </summary>
public sealed class CelAgreesWithCSharpTests
{
    private static readonly JsonNode s_schema = JsonNode.Parse(KubernetesJson.Serialize(
        CrdGenerator.LowCommJobDefinition().Spec.Versions[0].Schema.OpenAPIV3Schema))!;

    [Fact]
    public void ApiServerDefaults_FillWhatTheManifestLeftOut_AsTheCSharpInitializersDo()
    {
        JsonNode manifest = JsonNode.Parse("""{"spec": {"faultTolerance": {"backoff": {"initialSeconds": 1}}}}""")!;
        StructuralSchema.ApplyDefaults(manifest, s_schema);
        var defaults = new LowCommJobSpec();
        Assert.Equal(defaults.FaultTolerance.Backoff.MaxSeconds, manifest["spec"]!["faultTolerance"]!["backoff"]!["maxSeconds"]!.GetValue<int>());
        Assert.Equal(defaults.FaultTolerance.MaxRestarts, manifest["spec"]!["faultTolerance"]!["maxRestarts"]!.GetValue<int>());
        Assert.Equal(defaults.Algorithm.Desloc.Kx, manifest["spec"]!["algorithm"]!["desloc"]!["kx"]!.GetValue<int>());
        Assert.Equal("DESLOC", manifest["spec"]!["algorithm"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public void EveryCrossFieldRule_IsInTheCrd_AtItsNode()
    {
        foreach (CrossFieldRule<LowCommJobSpec> rule in LowCommJobValidation.Rules)
        {
            JsonNode? node = s_schema;
            foreach (string part in rule.Node.Split('.'))
            {
                node = node?["properties"]?[part];
            }

            JsonArray rules = node?["x-kubernetes-validations"]?.AsArray() ?? throw new Xunit.Sdk.XunitException($"no CEL rules at {rule.Node}");
            Assert.Contains(rules, r => r!["rule"]!.GetValue<string>() == rule.Cel && r["fieldPath"]!.GetValue<string>() == rule.FieldPath);
        }
    }
}
