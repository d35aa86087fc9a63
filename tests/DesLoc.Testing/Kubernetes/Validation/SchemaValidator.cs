using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace DesLoc.Testing.Kubernetes.Validation;

/// <summary>
/// The OpenAPI part of CRD validation (kube-openapi's validators as the apiextensions apiserver converts their errors).
/// Records whether an error was of a kind that keeps the apiserver from running the CEL rules.
/// </summary>
internal sealed class SchemaValidator
{
    private static readonly ConcurrentDictionary<string, Regex> s_patterns = new();

    private readonly List<FieldViolation> _violations = [];

    public IReadOnlyList<FieldViolation> Violations => _violations;

    /// <summary>A type, required, enum, maxLength or maxItems error: the apiserver then skips all CEL rules.</summary>
    public bool HasBlockingError { get; private set; }

    public void Validate(JsonNode? node, JsonNode schema, string path)
    {
        string? type = SchemaKeywords.Type(schema);
        bool intOrString = SchemaKeywords.IsIntOrString(schema);
        if (node is null)
        {
            if (!SchemaKeywords.IsNullable(schema) && (type is not null || intOrString))
            {
                TypeError(path, intOrString ? "integer,string" : type!, "null");
            }

            return;
        }

        string actual = FieldErrors.JsonTypeName(node);
        if (intOrString ? actual is not ("integer" or "string") : type is not null && !TypeMatches(node, actual, type))
        {
            TypeError(path, intOrString ? "integer,string" : type!, actual);
            return;
        }

        switch (actual)
        {
            case "string":
                ValidateString(node.GetValue<string>(), node, schema, path);
                break;
            case "integer" or "number":
                ValidateNumber(node, schema, path);
                break;
            case "array":
                ValidateArray((JsonArray)node, schema, path);
                break;
        }

        ValidateEnum(node, schema, path);
        if (node is JsonObject obj)
        {
            ValidateObject(obj, schema, path);
        }
    }

    private static bool TypeMatches(JsonNode node, string actual, string type) => type switch
    {
        "integer" => actual == "integer" || (actual == "number" && double.IsInteger(FieldErrors.NumberValue(node))),
        "number" => actual is "integer" or "number",
        _ => actual == type,
    };

    private static string InBody(string path) => $"{(path.Length == 0 ? "." : path)} in body";

    private void TypeError(string path, string expected, string actual)
    {
        HasBlockingError = true;
        _violations.Add(FieldErrors.Invalid(path, GoFormat.Quote(actual), $"{InBody(path)} must be of type {expected}: {GoFormat.Quote(actual)}"));
    }

    private void ValidateString(string value, JsonNode node, JsonNode schema, string path)
    {
        int length = value.EnumerateRunes().Count();
        if (SchemaKeywords.Number(schema, "minLength") is { } min && length < min)
        {
            _violations.Add(FieldErrors.Invalid(path, FieldErrors.BadValue(node), $"{InBody(path)} should be at least {(long)min} chars long"));
        }

        if (SchemaKeywords.Number(schema, "maxLength") is { } max && length > max)
        {
            HasBlockingError = true;
            _violations.Add(FieldErrors.TooLong(path, (long)max));
        }

        if (SchemaKeywords.String(schema, "pattern") is { } pattern
            && !s_patterns.GetOrAdd(pattern, p => new Regex(p, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1))).IsMatch(value))
        {
            _violations.Add(FieldErrors.Invalid(path, FieldErrors.BadValue(node), $"{InBody(path)} should match '{pattern}'"));
        }
    }

    private void ValidateNumber(JsonNode node, JsonNode schema, string path)
    {
        double value = FieldErrors.NumberValue(node);
        if (SchemaKeywords.Number(schema, "minimum") is { } min)
        {
            bool exclusive = SchemaKeywords.Flag(schema, "exclusiveMinimum");
            if (exclusive ? value <= min : value < min)
            {
                string bound = exclusive ? "greater than" : "greater than or equal to";
                _violations.Add(FieldErrors.Invalid(path, FieldErrors.BadValue(node), $"{InBody(path)} should be {bound} {GoFormat.Float(min)}"));
            }
        }

        if (SchemaKeywords.Number(schema, "maximum") is { } max)
        {
            bool exclusive = SchemaKeywords.Flag(schema, "exclusiveMaximum");
            if (exclusive ? value >= max : value > max)
            {
                string bound = exclusive ? "less than" : "less than or equal to";
                _violations.Add(FieldErrors.Invalid(path, FieldErrors.BadValue(node), $"{InBody(path)} should be {bound} {GoFormat.Float(max)}"));
            }
        }
    }

    private void ValidateArray(JsonArray array, JsonNode schema, string path)
    {
        if (SchemaKeywords.Number(schema, "minItems") is { } min && array.Count < min)
        {
            _violations.Add(FieldErrors.Invalid(path, array.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), $"{InBody(path)} should have at least {(long)min} items"));
        }

        if (SchemaKeywords.Number(schema, "maxItems") is { } max && array.Count > max)
        {
            HasBlockingError = true;
            _violations.Add(FieldErrors.TooMany(path, array.Count, (long)max));
        }

        if (schema["items"] is JsonObject items)
        {
            for (int i = 0; i < array.Count; i++)
            {
                Validate(array[i], items, SchemaKeywords.Index(path, i));
            }
        }
    }

    private void ValidateEnum(JsonNode node, JsonNode schema, string path)
    {
        if (schema["enum"] is not JsonArray members || members.Any(member => JsonNode.DeepEquals(member, node) || NumbersEqual(member, node)))
        {
            return;
        }

        HasBlockingError = true;
        _violations.Add(FieldErrors.NotSupported(path, FieldErrors.BadValue(node), members.Select(FieldErrors.EnumMember)));
    }

    private static bool NumbersEqual(JsonNode? a, JsonNode? b) =>
        a is JsonValue x && b is JsonValue y && x.GetValueKind() == JsonValueKind.Number && y.GetValueKind() == JsonValueKind.Number
        && FieldErrors.NumberValue(x) == FieldErrors.NumberValue(y);

    private void ValidateObject(JsonObject obj, JsonNode schema, string path)
    {
        if (schema["required"] is JsonArray required)
        {
            foreach (string name in required.Select(r => r!.GetValue<string>()).Where(name => !obj.ContainsKey(name)))
            {
                HasBlockingError = true;
                _violations.Add(FieldErrors.Required(SchemaKeywords.Child(path, name)));
            }
        }

        if (SchemaKeywords.IsEmbeddedResource(schema))
        {
            ValidateEmbeddedResource(obj, path);
        }

        JsonObject? properties = SchemaKeywords.Properties(schema);
        JsonObject? additional = SchemaKeywords.AdditionalProperties(schema);
        foreach (var (key, value) in obj)
        {
            if (properties?[key] is JsonObject property)
            {
                Validate(value, property, SchemaKeywords.Child(path, key));
            }
            else if (additional is not null)
            {
                Validate(value, additional, SchemaKeywords.Key(path, key));
            }
        }
    }

    // apiextensions' objectmeta validation of x-kubernetes-embedded-resource: apiVersion and kind must be set.
    private void ValidateEmbeddedResource(JsonObject obj, string path)
    {
        foreach (string name in new[] { "apiVersion", "kind" })
        {
            string field = SchemaKeywords.Child(path, name);
            if (!obj.TryGetPropertyValue(name, out JsonNode? value))
            {
                HasBlockingError = true;
                _violations.Add(FieldErrors.Required(field, "must not be empty"));
            }
            else if (value is not JsonValue text || text.GetValueKind() != JsonValueKind.String)
            {
                _violations.Add(FieldErrors.Invalid(field, FieldErrors.BadValue(value), "must be a string"));
            }
            else if (text.GetValue<string>().Length == 0)
            {
                _violations.Add(FieldErrors.Invalid(field, "\"\"", "must not be empty"));
            }
        }
    }
}
