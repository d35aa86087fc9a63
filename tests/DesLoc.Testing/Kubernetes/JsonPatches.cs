using System.Globalization;
using System.Text.Json.Nodes;

namespace DesLoc.Testing.Kubernetes;

/// <summary>
/// The PATCH bodies the server applies: JSON merge patch (RFC 7386), strategic merge patch read as a merge patch
/// (lists are replaced, not merged by key; <c>$</c> directives are dropped), and JSON patch (RFC 6902).
/// </summary>
internal static class JsonPatches
{
    /// <exception cref="ApiException">400 for a malformed patch, 422 for a failed <c>test</c> op, 415 for server-side apply.</exception>
    public static JsonNode Apply(string contentType, JsonNode target, string body)
    {
        string mediaType = contentType.Split(';')[0].Trim();
        JsonNode? patch;
        try
        {
            patch = JsonNode.Parse(body);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw ApiErrors.BadRequest($"error decoding patch: {e.Message}");
        }

        return mediaType switch
        {
            "application/merge-patch+json" => Merge(target, patch, dropDirectives: false)!,
            "application/strategic-merge-patch+json" => Merge(target, patch, dropDirectives: true)!,
            "application/json-patch+json" => JsonPatch(target, patch as JsonArray ?? throw ApiErrors.BadRequest("a JSON patch must be an array")),
            _ => throw ApiErrors.UnsupportedMediaType(mediaType),
        };
    }

    /// <summary>RFC 7386: objects merge recursively, <c>null</c> deletes, anything else replaces.</summary>
    public static JsonNode? Merge(JsonNode? target, JsonNode? patch, bool dropDirectives)
    {
        if (patch is not JsonObject patchObject)
        {
            return patch?.DeepClone();
        }

        JsonObject result = target is JsonObject targetObject ? (JsonObject)targetObject.DeepClone() : [];
        foreach ((string key, JsonNode? value) in patchObject)
        {
            if (dropDirectives && key.StartsWith('$'))
            {
                continue;
            }

            if (value is null)
            {
                result.Remove(key);
            }
            else
            {
                result[key] = Merge(result[key], value, dropDirectives);
            }
        }

        return result;
    }

    /// <summary>RFC 6902: add, remove, replace, move, copy and test, applied in order to a copy.</summary>
    public static JsonNode JsonPatch(JsonNode target, JsonArray operations)
    {
        JsonNode document = target.DeepClone();
        foreach (JsonNode? operation in operations)
        {
            string op = operation?["op"]?.GetValue<string>() ?? throw ApiErrors.BadRequest("a JSON patch operation needs \"op\"");
            string path = operation["path"]?.GetValue<string>() ?? throw ApiErrors.BadRequest("a JSON patch operation needs \"path\"");
            switch (op)
            {
                case "add":
                    document = Add(document, path, operation["value"]?.DeepClone());
                    break;
                case "remove":
                    document = Remove(document, path, out _);
                    break;
                case "replace":
                    document = Remove(document, path, out _);
                    document = Add(document, path, operation["value"]?.DeepClone());
                    break;
                case "move":
                    document = Remove(document, From(operation), out JsonNode? moved);
                    document = Add(document, path, moved);
                    break;
                case "copy":
                    document = Add(document, path, Resolve(document, From(operation))?.DeepClone());
                    break;
                case "test":
                    if (!JsonNode.DeepEquals(Resolve(document, path), operation["value"]))
                    {
                        throw new ApiException(422, ApiErrors.Status(422, "Invalid", $"the server rejected our request due to an error in our request: test failed at {path}", null));
                    }

                    break;
                default:
                    throw ApiErrors.BadRequest($"unknown JSON patch operation \"{op}\"");
            }
        }

        return document;
    }

    private static string From(JsonNode operation) =>
        operation["from"]?.GetValue<string>() ?? throw ApiErrors.BadRequest("a move or copy operation needs \"from\"");

    private static string[] Tokens(string pointer)
    {
        if (pointer.Length == 0)
        {
            return [];
        }

        if (pointer[0] != '/')
        {
            throw ApiErrors.BadRequest($"invalid JSON pointer \"{pointer}\"");
        }

        return [.. pointer[1..].Split('/').Select(token => token.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal))];
    }

    private static JsonNode? Resolve(JsonNode document, string pointer)
    {
        JsonNode? node = document;
        foreach (string token in Tokens(pointer))
        {
            node = node switch
            {
                JsonObject map when map.TryGetPropertyValue(token, out JsonNode? child) => child,
                JsonArray list when int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out int index) && index < list.Count => list[index],
                _ => throw ApiErrors.BadRequest($"path \"{pointer}\" does not exist"),
            };
        }

        return node;
    }

    private static (JsonNode Parent, string Last) Parent(JsonNode document, string pointer)
    {
        string[] tokens = Tokens(pointer);
        if (tokens.Length == 0)
        {
            throw ApiErrors.BadRequest("cannot patch the document root");
        }

        string parentPointer = string.Concat(tokens[..^1].Select(t => "/" + t.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal)));
        JsonNode parent = Resolve(document, parentPointer) ?? throw ApiErrors.BadRequest($"path \"{pointer}\" does not exist");
        return (parent, tokens[^1]);
    }

    private static JsonNode Add(JsonNode document, string path, JsonNode? value)
    {
        (JsonNode parent, string last) = Parent(document, path);
        switch (parent)
        {
            case JsonObject map:
                map[last] = value;
                break;
            case JsonArray list when last == "-":
                list.Add(value);
                break;
            case JsonArray list when int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out int index) && index <= list.Count:
                list.Insert(index, value);
                break;
            default:
                throw ApiErrors.BadRequest($"cannot add at \"{path}\"");
        }

        return document;
    }

    private static JsonNode Remove(JsonNode document, string path, out JsonNode? removed)
    {
        (JsonNode parent, string last) = Parent(document, path);
        switch (parent)
        {
            case JsonObject map when map.TryGetPropertyValue(last, out removed):
                map.Remove(last);
                break;
            case JsonArray list when int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out int index) && index < list.Count:
                removed = list[index];
                list.RemoveAt(index);
                break;
            default:
                throw ApiErrors.BadRequest($"path \"{path}\" does not exist");
        }

        return document;
    }
}
