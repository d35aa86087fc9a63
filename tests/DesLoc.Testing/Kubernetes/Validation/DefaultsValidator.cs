using System.Text.Json.Nodes;

namespace DesLoc.Testing.Kubernetes.Validation;

/// <summary>
/// What kube-apiserver checks of every <c>default</c> in a CRD's schema before it installs the CRD
/// (apiextensions-apiserver, <c>pkg/apiserver/schema/defaulting/validation.go</c>): the default must be pruned (no
/// fields the node does not know), valid against the node's OpenAPI schema, and then pass the node's CEL rules and
/// those of its descendants, evaluated on the default exactly as written: nested defaults are not filled in first, so
/// a rule over <c>{}</c> fails with "no such key". Defaults under <c>additionalProperties</c> are not followed (the API
/// server forbids them there). Not imitated: defaults inside <c>metadata</c> of embedded resources, and the CEL cost budget.
/// </summary>
internal static class DefaultsValidator
{
    public static void Validate(JsonNode? schema, string path, List<FieldViolation> violations)
    {
        if (schema is not JsonObject node)
        {
            return;
        }

        if (node["default"] is { } value)
        {
            ValidateDefault(value, node, $"{path}.default", violations);
        }

        if (node["items"] is JsonObject items)
        {
            Validate(items, $"{path}.items", violations);
        }

        foreach (var (name, property) in SchemaKeywords.Properties(node) ?? [])
        {
            Validate(property, $"{path}.properties[{name}]", violations);
        }
    }

    private static void ValidateDefault(JsonNode value, JsonObject schema, string path, List<FieldViolation> violations)
    {
        JsonNode pruned = value.DeepClone();
        var removed = new List<string>();
        SchemaPruner.Prune(pruned, schema, "", SchemaKeywords.IsEmbeddedResource(schema), removed);
        if (removed.Count > 0)
        {
            violations.Add(FieldErrors.Invalid(path, FieldErrors.BadValue(value), "must not have unknown fields"));
        }

        var validator = new SchemaValidator();
        validator.Validate(value, schema, path);
        if (validator.Violations.Count > 0)
        {
            violations.AddRange(validator.Violations);
            return;
        }

        CelRuleValidator.Validate(value, schema, oldNode: null, hasOld: false, path, violations);
    }
}
