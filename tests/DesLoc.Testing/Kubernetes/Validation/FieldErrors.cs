using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DesLoc.Testing.Kubernetes.Validation;

/// <summary>The apiserver's field error texts (k8s.io/apimachinery field.Error), for the error kinds schemas produce.</summary>
internal static class FieldErrors
{
    /// <summary>The field-less cause the apiserver adds when blocking errors keep the CEL rules from running.</summary>
    public static readonly FieldViolation RulesNotChecked = new(
        "<nil>",
        "Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation");

    public static FieldViolation Invalid(string field, string badValue, string detail) => new(field, $"Invalid value: {badValue}: {detail}");

    public static FieldViolation Required(string field, string? detail = null) =>
        new(field, detail is null ? "Required value" : $"Required value: {detail}");

    public static FieldViolation Forbidden(string field, string detail) => new(field, $"Forbidden: {detail}");

    public static FieldViolation Duplicate(string field, string badValue) => new(field, $"Duplicate value: {badValue}");

    public static FieldViolation NotSupported(string field, string badValue, IEnumerable<string> supported) =>
        new(field, $"Unsupported value: {badValue}: supported values: {string.Join(", ", supported.Select(GoFormat.Quote))}");

    public static FieldViolation TooLong(string field, long max) => new(field, $"Too long: may not be more than {max} bytes");

    public static FieldViolation TooMany(string field, long actual, long max) => new(field, $"Too many: {actual}: must have at most {max} items");

    /// <summary>A value as field.Error prints it: strings quoted, numbers and booleans bare, null as null.</summary>
    public static string BadValue(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject or JsonArray => node.ToJsonString(),
        _ => node.GetValueKind() switch
        {
            JsonValueKind.String => GoFormat.Quote(node.GetValue<string>()),
            JsonValueKind.Number => NumberText(node),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => node.ToJsonString(),
        },
    };

    /// <summary>An enum member as the apiserver lists it: strings bare (quoted later), others as JSON.</summary>
    public static string EnumMember(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : node?.ToJsonString() ?? "null";

    /// <summary>The OpenAPI type name of a decoded value: a number without fraction or exponent is an integer.</summary>
    public static string JsonTypeName(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "object",
        JsonArray => "array",
        _ => node.GetValueKind() switch
        {
            JsonValueKind.String => "string",
            JsonValueKind.True or JsonValueKind.False => "boolean",
            JsonValueKind.Number => long.TryParse(node.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _) ? "integer" : "number",
            _ => "null",
        },
    };

    public static double NumberValue(JsonNode node) =>
        double.Parse(node.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);

    // The apiserver decodes integers as int64 and prints them as such, other numbers as Go float64.
    private static string NumberText(JsonNode node)
    {
        string raw = node.ToJsonString();
        return long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long integer)
            ? integer.ToString(CultureInfo.InvariantCulture)
            : GoFormat.Float(NumberValue(node));
    }
}
