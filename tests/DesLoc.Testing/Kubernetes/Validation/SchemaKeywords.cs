using System.Text.Json;
using System.Text.Json.Nodes;

namespace DesLoc.Testing.Kubernetes.Validation;

/// <summary>Reads OpenAPI v3 schema keywords off a JSON schema node.</summary>
internal static class SchemaKeywords
{
    public static string? Type(JsonNode? schema) => String(schema, "type");

    public static string? String(JsonNode? schema, string keyword) =>
        schema?[keyword] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    public static bool Flag(JsonNode? schema, string keyword) =>
        schema?[keyword] is JsonValue value && value.GetValueKind() == JsonValueKind.True;

    public static double? Number(JsonNode? schema, string keyword) =>
        schema?[keyword] is JsonValue value && value.GetValueKind() == JsonValueKind.Number ? value.GetValue<double>() : null;

    public static JsonObject? Properties(JsonNode? schema) => schema?["properties"] as JsonObject;

    /// <summary>The schema of a map's values, when <c>additionalProperties</c> is a schema.</summary>
    public static JsonObject? AdditionalProperties(JsonNode? schema) => schema?["additionalProperties"] as JsonObject;

    /// <summary>The schema a child of an object is checked against: its property, else the map's value schema.</summary>
    public static JsonNode? ChildSchema(JsonNode? schema, string key) =>
        Properties(schema)?[key] ?? AdditionalProperties(schema);

    public static bool PreservesUnknownFields(JsonNode? schema) =>
        Flag(schema, "x-kubernetes-preserve-unknown-fields") || schema?["additionalProperties"] is JsonValue { } flag && flag.GetValueKind() == JsonValueKind.True;

    public static bool IsEmbeddedResource(JsonNode? schema) => Flag(schema, "x-kubernetes-embedded-resource");

    public static bool IsIntOrString(JsonNode? schema) => Flag(schema, "x-kubernetes-int-or-string");

    public static bool IsNullable(JsonNode? schema) => Flag(schema, "nullable");

    public static string Child(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    public static string Index(string path, int index) => $"{path}[{index}]";

    public static string Key(string path, string key) => $"{path}[{key}]";
}
