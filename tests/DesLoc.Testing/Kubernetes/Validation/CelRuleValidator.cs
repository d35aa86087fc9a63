using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;

namespace DesLoc.Testing.Kubernetes.Validation;

/// <summary>
/// Runs <c>x-kubernetes-validations</c> at every level of the object, as the apiextensions apiserver's CEL validator
/// does: <c>self</c> is the node, <c>oldSelf</c> the old node matched by property name or map key (list items are not
/// correlated), and transition rules are skipped where there is no old node.
/// </summary>
internal static class CelRuleValidator
{
    private static readonly ConcurrentDictionary<string, CelProgram> s_programs = new();

    public static bool HasRules(JsonNode? schema) =>
        schema is JsonObject s
        && (s["x-kubernetes-validations"] is JsonArray { Count: > 0 }
            || (SchemaKeywords.Properties(s)?.Any(p => HasRules(p.Value)) ?? false)
            || HasRules(s["items"])
            || HasRules(SchemaKeywords.AdditionalProperties(s)));

    public static void Validate(JsonNode? node, JsonNode schema, JsonNode? oldNode, bool hasOld, string path, List<FieldViolation> violations)
    {
        if (node is null)
        {
            return;
        }

        if (schema["x-kubernetes-validations"] is JsonArray rules)
        {
            foreach (JsonNode? rule in rules)
            {
                if (rule is JsonObject r)
                {
                    ValidateRule(r, node, schema, hasOld ? oldNode : null, hasOld, path, violations);
                }
            }
        }

        switch (node)
        {
            case JsonObject obj:
                JsonObject? properties = SchemaKeywords.Properties(schema);
                JsonObject? additional = SchemaKeywords.AdditionalProperties(schema);
                foreach (var (key, value) in obj)
                {
                    bool isProperty = properties?[key] is JsonObject;
                    JsonNode? child = isProperty ? properties![key] : additional;
                    if (child is null)
                    {
                        continue;
                    }

                    JsonNode? oldValue = null;
                    bool childHasOld = hasOld && oldNode is JsonObject oldObj && oldObj.TryGetPropertyValue(key, out oldValue);
                    string childPath = isProperty ? SchemaKeywords.Child(path, key) : SchemaKeywords.Key(path, key);
                    Validate(value, child, oldValue, childHasOld, childPath, violations);
                }

                break;
            case JsonArray array when schema["items"] is JsonObject items:
                for (int i = 0; i < array.Count; i++)
                {
                    Validate(array[i], items, null, hasOld: false, SchemaKeywords.Index(path, i), violations);
                }

                break;
        }
    }

    private static void ValidateRule(JsonObject rule, JsonNode node, JsonNode schema, JsonNode? oldNode, bool hasOld, string path, List<FieldViolation> violations)
    {
        string text = SchemaKeywords.String(rule, "rule") ?? throw new CelException("a validation rule without 'rule'", 0);
        if (SchemaKeywords.Flag(rule, "optionalOldSelf"))
        {
            throw new CelException("optionalOldSelf is not supported", 0);
        }

        CelProgram program = s_programs.GetOrAdd(text, CelProgram.Compile);
        if (program.ReferencesOldSelf && !hasOld)
        {
            return;
        }

        string type = GoFormat.Quote(SchemaKeywords.Type(schema) ?? "");
        string? message = SchemaKeywords.String(rule, "message")?.Trim();
        string ruleText = string.IsNullOrEmpty(message) ? text.Trim() : message;
        object? result;
        try
        {
            result = program.Evaluate(node, oldNode, schema);
        }
        catch (CelEvaluationException error)
        {
            string detail = error.Reason.StartsWith("no such overload", StringComparison.Ordinal)
                ? $"'{error.Reason}': call arguments did not match a supported operator, function or macro signature for rule: {ruleText}"
                : $"{error.Reason} evaluating rule: {ruleText}";
            violations.Add(FieldErrors.Invalid(path, type, detail));
            return;
        }

        if (result is true)
        {
            return;
        }

        string field = path + FieldPathSuffix(SchemaKeywords.String(rule, "fieldPath"), path.Length == 0);
        string failure = MessageFromExpression(rule, node, oldNode, schema)
            ?? (string.IsNullOrEmpty(message) ? $"failed rule: {text.Trim()}" : message);
        violations.Add(SchemaKeywords.String(rule, "reason") switch
        {
            "FieldValueForbidden" => FieldErrors.Forbidden(field, failure),
            "FieldValueRequired" => FieldErrors.Required(field, failure),
            "FieldValueDuplicate" => FieldErrors.Duplicate(field, type),
            _ => FieldErrors.Invalid(field, type, failure),
        });
    }

    // As the apiserver: a messageExpression that fails or yields an empty or multi-line string falls back to message.
    private static string? MessageFromExpression(JsonObject rule, JsonNode node, JsonNode? oldNode, JsonNode schema)
    {
        if (SchemaKeywords.String(rule, "messageExpression") is not { } expression)
        {
            return null;
        }

        CelProgram program = s_programs.GetOrAdd(expression, CelProgram.Compile);
        try
        {
            return program.Evaluate(node, oldNode, schema) is string text && text.Trim() is { Length: > 0 } trimmed && !trimmed.Contains('\n', StringComparison.Ordinal)
                ? trimmed
                : null;
        }
        catch (CelEvaluationException)
        {
            return null;
        }
    }

    /// <summary>A rule's <c>fieldPath</c> (<c>.a.b</c>, <c>['a']</c>, <c>.list[0]</c>) as a suffix of the node's path.</summary>
    private static string FieldPathSuffix(string? fieldPath, bool atRoot)
    {
        if (string.IsNullOrEmpty(fieldPath))
        {
            return "";
        }

        var suffix = new StringBuilder();
        int i = 0;
        while (i < fieldPath.Length)
        {
            if (fieldPath[i] == '.')
            {
                int start = ++i;
                while (i < fieldPath.Length && fieldPath[i] is not ('.' or '['))
                {
                    i++;
                }

                suffix.Append('.').Append(fieldPath, start, i - start);
            }
            else if (fieldPath[i] == '[' && i + 1 < fieldPath.Length && fieldPath[i + 1] is '\'' or '"')
            {
                char quote = fieldPath[i + 1];
                int end = fieldPath.IndexOf(quote + "]", i + 2, StringComparison.Ordinal);
                if (end < 0)
                {
                    throw new CelException($"malformed fieldPath '{fieldPath}'", i);
                }

                suffix.Append('.').Append(fieldPath, i + 2, end - i - 2);
                i = end + 2;
            }
            else if (fieldPath[i] == '[')
            {
                int end = fieldPath.IndexOf(']', i);
                if (end < 0)
                {
                    throw new CelException($"malformed fieldPath '{fieldPath}'", i);
                }

                suffix.Append(fieldPath, i, end - i + 1);
                i = end + 1;
            }
            else
            {
                throw new CelException($"malformed fieldPath '{fieldPath}'", i);
            }
        }

        string text = suffix.ToString();
        return atRoot && text.StartsWith('.') ? text[1..] : text;
    }
}
