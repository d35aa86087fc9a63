using System.Text.Json.Nodes;

namespace DesLoc.Testing.Kubernetes.Validation;

/// <summary>
/// What the apiextensions apiserver does with a custom resource against its version's <c>openAPIV3Schema</c>:
/// pruning and defaulting on decode, then OpenAPI validation and <c>x-kubernetes-validations</c> CEL rules, with the
/// apiserver's field paths and messages. A test server calls <see cref="Prune"/>, <see cref="ApplyDefaults"/>, then
/// <see cref="Validate"/>.
/// </summary>
public static class StructuralSchema
{
    /// <summary>
    /// The reasons the apiserver would refuse <paramref name="obj"/>; empty when it is valid. With
    /// <paramref name="oldObj"/> (an update) transition rules referencing <c>oldSelf</c> run too. As in the apiserver,
    /// a type, required, enum, maxLength or maxItems error skips every CEL rule and adds a field-less
    /// (<c>&lt;nil&gt;</c>) cause saying so.
    /// </summary>
    public static IReadOnlyList<FieldViolation> Validate(JsonNode? obj, JsonNode schema, JsonNode? oldObj = null)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var validator = new SchemaValidator();
        validator.Validate(obj, schema, "");
        var violations = validator.Violations.ToList();
        if (!CelRuleValidator.HasRules(schema))
        {
            return violations;
        }

        if (validator.HasBlockingError)
        {
            violations.Add(FieldErrors.RulesNotChecked);
        }
        else
        {
            CelRuleValidator.Validate(obj, schema, oldObj, oldObj is not null, "", violations);
        }

        return violations;
    }

    /// <summary>
    /// The API server's checks of the <c>default</c>s in a CRD's schemas (see <see cref="DefaultsValidator"/>), with its
    /// field paths: the one schema of versions that all share it is validated as <c>spec.validation.openAPIV3Schema</c>
    /// (the internal form the API server validates), else each as <c>spec.versions[i].schema.openAPIV3Schema</c>.
    /// </summary>
    public static IReadOnlyList<FieldViolation> ValidateCrdDefaults(JsonNode crd)
    {
        ArgumentNullException.ThrowIfNull(crd);
        var schemas = (crd["spec"]?["versions"] as JsonArray ?? []).Select(v => v?["schema"]?["openAPIV3Schema"]).ToList();
        var violations = new List<FieldViolation>();
        if (schemas.Count > 0 && schemas.All(s => JsonNode.DeepEquals(s, schemas[0])))
        {
            DefaultsValidator.Validate(schemas[0], "spec.validation.openAPIV3Schema", violations);
        }
        else
        {
            for (int i = 0; i < schemas.Count; i++)
            {
                DefaultsValidator.Validate(schemas[i], $"spec.versions[{i}].schema.openAPIV3Schema", violations);
            }
        }

        return violations;
    }

    /// <summary>Fills <c>default</c>s into missing properties, recursively and into defaulted values too.</summary>
    public static void ApplyDefaults(JsonNode obj, JsonNode schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        SchemaDefaulter.Apply(obj, schema);
    }

    /// <summary>Removes the fields the schema does not know, in place; returns their paths.</summary>
    public static IReadOnlyList<string> Prune(JsonNode obj, JsonNode schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var removed = new List<string>();
        SchemaPruner.Prune(obj, schema, "", isResource: true, removed);
        return removed;
    }
}
