using System.Text.Json.Nodes;
using DesLoc.Testing.Kubernetes;

namespace DesLoc.Operator.Tests.Validation;

public sealed class CrdRulesTests
{
    private const string RulesNotChecked =
        "Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation";

    [Fact]
    public void Admit_ValidManifest_HasNoViolations()
    {
        Assert.Empty(DeslocJobSchema.Admit(DeslocJobSchema.Manifest()));
    }

    public static TheoryData<string, string, FieldViolation[]> Refusals() => new()
    {
        {
            "ku not a multiple of kx", """{"algorithm": {"desloc": {"kx": 4, "ku": 6}}}""",
            [new("spec.algorithm.desloc.ku", "Invalid value: \"object\": ku must be a multiple of kx")]
        },
        {
            "kx defaulted, ku not a multiple", """{"algorithm": {"desloc": {"ku": 6}}}""",
            [new("spec.algorithm.desloc.ku", "Invalid value: \"object\": ku must be a multiple of kx")]
        },
        {
            "topK above chunk, no message", """{"algorithm": {"compression": {"topK": 2048}}}""",
            [new("spec.algorithm.compression", "Invalid value: \"object\": failed rule: self.topK <= self.chunk")]
        },
        {
            "minReplicas above replicas", """{"minReplicas": 5}""",
            [new("spec.minReplicas", "Invalid value: \"object\": minReplicas must not exceed replicas")]
        },
        {
            "no trainer container", """{"template": {"spec": {"containers": [{"name": "sidecar"}]}}}""",
            [new("spec.template", "Invalid value: \"object\": a container named trainer is required")]
        },
        {
            "kx zero: minimum and a runtime error", """{"algorithm": {"desloc": {"kx": 0, "ku": 8}}}""",
            [
                new("spec.algorithm.desloc.kx", "Invalid value: 0: spec.algorithm.desloc.kx in body should be greater than or equal to 1"),
                new("spec.algorithm.desloc", "Invalid value: \"object\": modulus by zero evaluating rule: ku must be a multiple of kx"),
            ]
        },
        {
            "containers missing: a runtime error names the rule's node, not its fieldPath", """{"template": {"spec": {"containers": null}}}""",
            [new("spec", "Invalid value: \"object\": no such key: containers evaluating rule: a container named trainer is required")]
        },
        {
            "replicas of the wrong type blocks the rules", """{"replicas": "four", "minReplicas": 9}""",
            [
                new("spec.replicas", "Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\""),
                new("<nil>", RulesNotChecked),
            ]
        },
        {
            "unknown algorithm blocks the rules", """{"algorithm": {"name": "Foo", "desloc": {"kx": 4, "ku": 6}}}""",
            [
                new("spec.algorithm.name", "Unsupported value: \"Foo\": supported values: \"DDP\", \"LocalAdam\", \"DesLoc\""),
                new("<nil>", RulesNotChecked),
            ]
        },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Admit_InvalidManifest_IsRefusedWithTheField(string because, string specPatch, FieldViolation[] expected)
    {
        JsonNode manifest = DeslocJobSchema.Manifest();
        Merge(manifest["spec"]!.AsObject(), JsonNode.Parse(specPatch)!.AsObject());

        var violations = DeslocJobSchema.Admit(manifest);

        Assert.True(expected.SequenceEqual(violations), $"{because}: got [{string.Join("; ", violations)}]");
    }

    [Fact]
    public void Admit_Update_RunsTransitionRules()
    {
        JsonNode old = DeslocJobSchema.Manifest();
        Assert.Empty(DeslocJobSchema.Admit(old));
        JsonNode changed = DeslocJobSchema.Manifest();
        changed["spec"]!["algorithm"]!["name"] = "DDP";
        JsonNode same = DeslocJobSchema.Manifest();
        same["spec"]!["replicas"] = 8;

        Assert.Equal([new FieldViolation("spec.algorithm.name", "Invalid value: \"string\": algorithm is immutable")], DeslocJobSchema.Admit(changed, old));
        Assert.Empty(DeslocJobSchema.Admit(same, old));
    }

    // A JSON merge patch (RFC 7386): null deletes.
    private static void Merge(JsonObject target, JsonObject patch)
    {
        foreach (var (key, value) in patch.ToList())
        {
            if (value is null)
            {
                target.Remove(key);
            }
            else if (value is JsonObject inner && target[key] is JsonObject existing)
            {
                Merge(existing, inner);
            }
            else
            {
                target[key] = value.DeepClone();
            }
        }
    }
}
