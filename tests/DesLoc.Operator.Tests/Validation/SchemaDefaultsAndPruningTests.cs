using System.Text.Json.Nodes;
using DesLoc.Testing.Kubernetes.Validation;

namespace DesLoc.Operator.Tests.Validation;

public sealed class SchemaDefaultsAndPruningTests
{
    [Fact]
    public void ApplyDefaults_FillsMissingFieldsRecursively_IntoDefaultedObjectsAndArrayItems()
    {
        JsonNode manifest = DeslocJobSchema.Manifest();
        manifest["spec"]!["algorithm"]!.AsObject().Remove("desloc");
        manifest["spec"]!["algorithm"]!["compression"] = new JsonObject { ["topK"] = 8 };

        StructuralSchema.ApplyDefaults(manifest, DeslocJobSchema.Create());

        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{"name": "DesLoc", "desloc": {"kx": 4, "ku": 8}, "compression": {"topK": 8, "chunk": 1024}}"""),
            manifest["spec"]!["algorithm"]), manifest["spec"]!["algorithm"]!.ToJsonString());
        Assert.Equal("""[{"containerPort":5000,"protocol":"TCP"}]""", manifest["spec"]!["template"]!["spec"]!["containers"]![0]!["ports"]!.ToJsonString());
    }

    [Fact]
    public void ApplyDefaults_NullOfNonNullableField_TakesTheDefaultOrIsDropped()
    {
        var schema = JsonNode.Parse("""
            {"type": "object", "properties": {
              "a": {"type": "integer", "default": 3},
              "b": {"type": "string"},
              "c": {"type": "string", "nullable": true, "default": "x"}}}
            """)!;
        var obj = JsonNode.Parse("""{"a": null, "b": null, "c": null}""")!;

        StructuralSchema.ApplyDefaults(obj, schema);

        Assert.Equal("""{"a":3,"c":null}""", obj.ToJsonString());
    }

    [Fact]
    public void Prune_RemovesUnknownFields_KeepsTypeMetaAndPreservedLevels()
    {
        JsonNode manifest = DeslocJobSchema.Manifest();
        manifest["spec"]!["replicaz"] = 3;
        manifest["spec"]!["algorithm"]!["desloc"]!["kU"] = 1;
        manifest["spec"]!["template"]!["spec"]!["nodeSelector"] = new JsonObject { ["gpu"] = "h100" };
        manifest["spec"]!["template"]!["spec"]!["containers"]![0]!["imagePullPolicy"] = "Never";
        manifest["status"] = new JsonObject { ["phase"] = "Running" };
        manifest["extra"] = true;

        var removed = StructuralSchema.Prune(manifest, DeslocJobSchema.Create());

        Assert.Equal(["spec.algorithm.desloc.kU", "spec.template.spec.containers[0].imagePullPolicy", "spec.replicaz", "extra"], removed);
        Assert.Equal("desloc.io/v1alpha1", (string?)manifest["apiVersion"]);
        Assert.NotNull(manifest["metadata"]);
        Assert.Equal("h100", (string?)manifest["spec"]!["template"]!["spec"]!["nodeSelector"]!["gpu"]);
        Assert.Equal("Running", (string?)manifest["status"]!["phase"]);
    }

    [Fact]
    public void Prune_MapValuesAndEmbeddedResources()
    {
        var schema = JsonNode.Parse("""
            {"type": "object", "properties": {"spec": {"type": "object", "properties": {
              "limits": {"type": "object", "additionalProperties": {"type": "object", "properties": {"n": {"type": "integer"}}}},
              "pod": {"type": "object", "x-kubernetes-embedded-resource": true, "properties": {"spec": {"type": "object"}}}}}}}
            """)!;
        var obj = JsonNode.Parse("""{"spec": {"limits": {"gpu": {"n": 1, "x": 2}}, "pod": {"apiVersion": "v1", "kind": "Pod", "metadata": {}, "spec": {"y": 1}, "z": 0}}}""")!;

        var removed = StructuralSchema.Prune(obj, schema);

        Assert.Equal(["spec.limits[gpu].x", "spec.pod.spec.y", "spec.pod.z"], removed);
        Assert.Equal("""{"spec":{"limits":{"gpu":{"n":1}},"pod":{"apiVersion":"v1","kind":"Pod","metadata":{},"spec":{}}}}""", obj.ToJsonString());
    }
}
