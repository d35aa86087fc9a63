using System.Text.Json.Nodes;
using DesLoc.Testing.Kubernetes;
using DesLoc.Testing.Kubernetes.Validation;

namespace DesLoc.Operator.Tests.Validation;

public sealed class StructuralSchemaTests
{
    [Theory]
    [InlineData("""{"type": "integer"}""", "3", "")]
    [InlineData("""{"type": "integer"}""", "2.0", "")]
    [InlineData("""{"type": "integer"}""", "\"two\"", "Invalid value: \"string\": spec.f in body must be of type integer: \"string\"")]
    [InlineData("""{"type": "integer"}""", "1.5", "Invalid value: \"number\": spec.f in body must be of type integer: \"number\"")]
    [InlineData("""{"type": "number"}""", "2", "")]
    [InlineData("""{"type": "number"}""", "true", "Invalid value: \"boolean\": spec.f in body must be of type number: \"boolean\"")]
    [InlineData("""{"type": "string"}""", "{}", "Invalid value: \"object\": spec.f in body must be of type string: \"object\"")]
    [InlineData("""{"type": "boolean"}""", "\"true\"", "Invalid value: \"string\": spec.f in body must be of type boolean: \"string\"")]
    [InlineData("""{"type": "array"}""", "{}", "Invalid value: \"object\": spec.f in body must be of type array: \"object\"")]
    [InlineData("""{"type": "object"}""", "null", "Invalid value: \"null\": spec.f in body must be of type object: \"null\"")]
    [InlineData("""{"type": "object", "nullable": true}""", "null", "")]
    [InlineData("""{"x-kubernetes-int-or-string": true}""", "8080", "")]
    [InlineData("""{"x-kubernetes-int-or-string": true}""", "\"http\"", "")]
    [InlineData("""{"x-kubernetes-int-or-string": true}""", "true", "Invalid value: \"boolean\": spec.f in body must be of type integer,string: \"boolean\"")]
    [InlineData("""{"type": "integer", "minimum": 1}""", "0", "Invalid value: 0: spec.f in body should be greater than or equal to 1")]
    [InlineData("""{"type": "integer", "minimum": 1, "exclusiveMinimum": true}""", "1", "Invalid value: 1: spec.f in body should be greater than 1")]
    [InlineData("""{"type": "integer", "maximum": 10}""", "11", "Invalid value: 11: spec.f in body should be less than or equal to 10")]
    [InlineData("""{"type": "number", "maximum": 0.5, "exclusiveMaximum": true}""", "0.5", "Invalid value: 0.5: spec.f in body should be less than 0.5")]
    [InlineData("""{"type": "integer", "maximum": 1000000}""", "1000001", "Invalid value: 1000001: spec.f in body should be less than or equal to 1e+06")]
    [InlineData("""{"type": "string", "enum": ["DDP", "LocalAdam"]}""", "\"Foo\"", "Unsupported value: \"Foo\": supported values: \"DDP\", \"LocalAdam\"")]
    [InlineData("""{"type": "string", "enum": ["DDP", "LocalAdam"]}""", "\"DDP\"", "")]
    [InlineData("""{"type": "integer", "enum": [1, 2]}""", "3", "Unsupported value: 3: supported values: \"1\", \"2\"")]
    [InlineData("""{"type": "string", "minLength": 3}""", "\"ab\"", "Invalid value: \"ab\": spec.f in body should be at least 3 chars long")]
    [InlineData("""{"type": "string", "maxLength": 3}""", "\"abcd\"", "Too long: may not be more than 3 bytes")]
    [InlineData("""{"type": "string", "maxLength": 3}""", "\"héé\"", "")]
    [InlineData("""{"type": "string", "pattern": "^[a-z]+$"}""", "\"Ab\"", "Invalid value: \"Ab\": spec.f in body should match '^[a-z]+$'")]
    [InlineData("""{"type": "array", "minItems": 1}""", "[]", "Invalid value: 0: spec.f in body should have at least 1 items")]
    [InlineData("""{"type": "array", "maxItems": 1}""", "[1, 2]", "Too many: 2: must have at most 1 items")]
    [InlineData("""{"type": "object", "x-kubernetes-preserve-unknown-fields": true}""", """{"any": {"thing": [1]}}""", "")]
    public void Validate_OneField_ReportsTheApiserverMessage(string fieldSchema, string value, string expected)
    {
        var schema = JsonNode.Parse("""{"type": "object", "properties": {"spec": {"type": "object", "properties": {"f": """ + fieldSchema + "}}}}")!;
        var obj = JsonNode.Parse("""{"spec": {"f": """ + value + "}}");

        var violations = StructuralSchema.Validate(obj, schema);

        Assert.Equal(expected.Length == 0 ? [] : new[] { new FieldViolation("spec.f", expected) }, violations);
    }

    [Fact]
    public void Validate_NestedPaths_NameArrayItemsAndMapEntries()
    {
        var schema = JsonNode.Parse("""
            {"type": "object", "properties": {"spec": {"type": "object", "required": ["replicas"], "properties": {
              "replicas": {"type": "integer"},
              "containers": {"type": "array", "items": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}},
              "limits": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}}}}}
            """)!;
        var obj = JsonNode.Parse("""{"spec": {"containers": [{"name": "a"}, {"image": "x"}], "limits": {"gpu": -1, "cpu": 2}}}""");

        var violations = StructuralSchema.Validate(obj, schema);

        Assert.Equal(
            [
                new FieldViolation("spec.replicas", "Required value"),
                new FieldViolation("spec.containers[1].name", "Required value"),
                new FieldViolation("spec.limits[gpu]", "Invalid value: -1: spec.limits[gpu] in body should be greater than or equal to 0"),
            ],
            violations);
    }

    [Fact]
    public void Validate_EmbeddedResource_RequiresApiVersionAndKind()
    {
        var schema = JsonNode.Parse("""
            {"type": "object", "properties": {"spec": {"type": "object", "properties": {
              "template": {"type": "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true}}}}}
            """)!;

        var violations = StructuralSchema.Validate(JsonNode.Parse("""{"spec": {"template": {"kind": "Pod"}}}"""), schema);

        Assert.Equal([new FieldViolation("spec.template.apiVersion", "Required value: must not be empty")], violations);
    }

    [Fact]
    public void Validate_RuleOnScalar_NamesTheScalarType()
    {
        var schema = JsonNode.Parse("""
            {"type": "object", "properties": {"spec": {"type": "object", "properties": {
              "name": {"type": "string", "x-kubernetes-validations": [{"rule": "self.startsWith('job-')"}]},
              "port": {"type": "integer", "x-kubernetes-validations": [{"rule": "self != 22", "message": "port 22 is reserved", "reason": "FieldValueForbidden"}]}}}}}
            """)!;

        var violations = StructuralSchema.Validate(JsonNode.Parse("""{"spec": {"name": "x", "port": 22}}"""), schema);

        Assert.Equal(
            [
                new FieldViolation("spec.name", "Invalid value: \"string\": failed rule: self.startsWith('job-')"),
                new FieldViolation("spec.port", "Forbidden: port 22 is reserved"),
            ],
            violations);
    }

    [Fact]
    public void Validate_MessageExpression_FormatsTheMessage()
    {
        var schema = JsonNode.Parse("""
            {"type": "object", "x-kubernetes-validations": [{"rule": "self.a < self.b", "messageExpression": "'a (' + string(self.a) + ') must be below b'", "fieldPath": "['a']"}],
             "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}
            """)!;

        var violations = StructuralSchema.Validate(JsonNode.Parse("""{"a": 5, "b": 2}"""), schema);

        Assert.Equal([new FieldViolation("a", "Invalid value: \"object\": a (5) must be below b")], violations);
    }

    [Fact]
    public void Validate_UnsupportedRule_Throws()
    {
        var schema = JsonNode.Parse("""{"type": "object", "x-kubernetes-validations": [{"rule": "self.name.lowerAscii() == 'a'"}], "properties": {"name": {"type": "string"}}}""")!;

        Assert.Throws<CelException>(() => StructuralSchema.Validate(JsonNode.Parse("""{"name": "A"}"""), schema));
    }
}
