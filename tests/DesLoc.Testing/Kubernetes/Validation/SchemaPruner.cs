using System.Text.Json.Nodes;

namespace DesLoc.Testing.Kubernetes.Validation;

/// <summary>
/// Drops fields the schema does not specify, as the apiserver does on decode, unless the level preserves unknown
/// fields. <c>apiVersion</c>, <c>kind</c> and <c>metadata</c> stay at the root and in embedded resources.
/// </summary>
internal static class SchemaPruner
{
    private static readonly HashSet<string> s_typeAndMeta = ["apiVersion", "kind", "metadata"];

    public static void Prune(JsonNode? node, JsonNode? schema, string path, bool isResource, List<string> removed)
    {
        switch (node)
        {
            case JsonObject obj:
                JsonObject? properties = SchemaKeywords.Properties(schema);
                JsonObject? additional = SchemaKeywords.AdditionalProperties(schema);
                bool preserve = SchemaKeywords.PreservesUnknownFields(schema);
                foreach (var (key, value) in obj.ToList())
                {
                    if (isResource && key == "metadata")
                    {
                        // ObjectMeta is the apiserver's own: a CRD's `metadata: {type: object}` does not prune it.
                        continue;
                    }

                    if (properties?[key] is JsonObject property)
                    {
                        Prune(value, property, SchemaKeywords.Child(path, key), SchemaKeywords.IsEmbeddedResource(property), removed);
                    }
                    else if (additional is not null)
                    {
                        Prune(value, additional, SchemaKeywords.Key(path, key), SchemaKeywords.IsEmbeddedResource(additional), removed);
                    }
                    else if (!preserve && !(isResource && s_typeAndMeta.Contains(key)))
                    {
                        obj.Remove(key);
                        removed.Add(SchemaKeywords.Child(path, key));
                    }
                }

                break;
            case JsonArray array:
                if (schema?["items"] is JsonObject items)
                {
                    for (int i = 0; i < array.Count; i++)
                    {
                        Prune(array[i], items, SchemaKeywords.Index(path, i), SchemaKeywords.IsEmbeddedResource(items), removed);
                    }
                }

                break;
        }
    }
}
