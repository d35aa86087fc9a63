using System.Text.Json.Nodes;

namespace DesLoc.Testing.Kubernetes.Validation;

/// <summary>
/// Structural defaulting as the apiserver applies it on decode: a missing property, or a null one whose schema is not
/// nullable, takes a copy of its <c>default</c>; other non-nullable nulls are dropped; then it recurses, defaulted
/// values included.
/// </summary>
internal static class SchemaDefaulter
{
    public static void Apply(JsonNode? node, JsonNode? schema)
    {
        switch (node)
        {
            case JsonObject obj:
                JsonObject? properties = SchemaKeywords.Properties(schema);
                if (properties is not null)
                {
                    foreach (var (name, property) in properties)
                    {
                        bool present = obj.TryGetPropertyValue(name, out JsonNode? value);
                        bool nullable = SchemaKeywords.IsNullable(property);
                        if (property?["default"] is { } fallback && (!present || (value is null && !nullable)))
                        {
                            obj[name] = fallback.DeepClone();
                        }
                        else if (present && value is null && !nullable && property is not null)
                        {
                            obj.Remove(name);
                        }
                    }
                }

                foreach (var (key, value) in obj.ToList())
                {
                    Apply(value, SchemaKeywords.ChildSchema(schema, key));
                }

                break;
            case JsonArray array:
                JsonNode? items = schema?["items"];
                foreach (JsonNode? item in array)
                {
                    Apply(item, items);
                }

                break;
        }
    }
}
