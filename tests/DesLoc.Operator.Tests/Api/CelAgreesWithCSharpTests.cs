using System.Text.Json.Nodes;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Api.Schema;
using DesLoc.Operator.Api.Validation;
using DesLoc.Testing.Kubernetes;
using DesLoc.Testing.Kubernetes.Validation;
using k8s;

namespace DesLoc.Operator.Tests.Api;

/// <summary>
/// The generated CRD's schema and CEL rules (evaluated as the API server does) and the operator's C# validation must
/// accept and refuse the same manifests, naming the same fields.
/// </summary>
public sealed class CelAgreesWithCSharpTests
{
    private static readonly JsonNode s_schema = JsonNode.Parse(KubernetesJson.Serialize(
        CrdGenerator.LowCommJobDefinition().Spec.Versions[0].Schema.OpenAPIV3Schema))!;

    public static TheoryData<string, string[]> Manifests => new()
    {
        { "{}", [] },
        { """{"replicas": 8, "minReplicas": 6, "algorithm": {"type": "DESLOC", "desloc": {"kx": 16, "ku": 48, "kv": 96}}}""", [] },
        { """{"algorithm": {"desloc": {"kx": -1}}}""", ["spec.algorithm.desloc.kx"] },
        { """{"algorithm": {"desloc": {"kx": 16, "ku": 40}}}""", ["spec.algorithm.desloc.ku"] },
        { """{"algorithm": {"desloc": {"kx": 16, "ku": 48, "kv": 100}}}""", ["spec.algorithm.desloc.kv"] },
        { """{"algorithm": {"dct": {"chunk": 32, "topK": 64}}}""", ["spec.algorithm.dct.topK"] },
        { """{"algorithm": {"diloco": {"period": 0}}}""", ["spec.algorithm.diloco.period"] },
        { """{"algorithm": {"palsgd": {"probability": 1.0}}}""", ["spec.algorithm.palsgd.probability"] },
        { """{"replicas": 2, "minReplicas": 3}""", ["spec.minReplicas"] },
        { """{"replicas": 0}""", ["spec.replicas"] },
        { """{"model": {"dim": 66, "heads": 4}}""", ["spec.model.dim"] },
        { """{"data": {"path": "/data/book.txt", "synthetic": {}}}""", ["spec.data.path"] },
        { """{"sync": {"adaptive": {"minPeriod": 64, "maxPeriod": 32}}}""", ["spec.sync.adaptive.minPeriod"] },
        { """{"faultTolerance": {"backoff": {"initialSeconds": 100, "maxSeconds": 10}}}""", ["spec.faultTolerance.backoff.initialSeconds"] },
        { """{"template": {"spec": {"containers": [{"name": "sidecar"}]}}}""", ["spec.template.spec.containers"] },
        { """{"training": {"beta2": 1.0, "steps": 0}}""", ["spec.training.beta2", "spec.training.steps"] },
    };

    [Theory]
    [MemberData(nameof(Manifests))]
    public void SchemaAndCel_AndCSharp_RefuseTheSameFields(string specJson, string[] expected)
    {
        JsonObject spec = JsonNode.Parse(specJson)!.AsObject();
        spec["template"] ??= JsonNode.Parse("""{"spec": {"containers": [{"name": "trainer", "image": "trainer:1"}]}}""");
        var manifest = new JsonObject
        {
            ["apiVersion"] = LowCommJob.GroupVersion,
            ["kind"] = LowCommJob.KindName,
            ["metadata"] = new JsonObject { ["name"] = "j" },
            ["spec"] = spec,
        };

        StructuralSchema.ApplyDefaults(manifest, s_schema);
        IReadOnlyList<FieldViolation> byApiServer = StructuralSchema.Validate(manifest, s_schema);
        LowCommJob job = KubernetesJson.Deserialize<LowCommJob>(manifest.ToJsonString());
        IReadOnlyList<SpecError> byOperator = LowCommJobValidation.Validate(job.Spec);

        string[] apiServerFields = [.. byApiServer.Select(v => v.Field).Where(f => f != "<nil>").Distinct().Order()];
        string[] operatorFields = [.. byOperator.Select(e => e.Field).Distinct().Order()];
        Assert.Equal(expected.Order(), apiServerFields);
        Assert.Equal(expected.Order(), operatorFields);
    }

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
        foreach (CrossFieldRule rule in CrossFieldRules.All)
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
