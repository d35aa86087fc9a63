using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DesLoc.Trainer.Configuration;

/// <summary>
/// Reads a job spec from JSON (a file, as the operator writes it) with command-line overrides addressed by
/// the same field paths: <c>--training.steps 200 --algorithm.type DiLoCo</c>. Unknown fields are errors.
/// </summary>
public static class JobSpecLoader
{
    /// <summary>Builds a spec from an optional JSON document and <c>path=value</c> overrides.</summary>
    public static JobSpec Load(string? json, IEnumerable<KeyValuePair<string, string>> overrides)
    {
        JsonObject root;
        try
        {
            root = json is null ? new JsonObject() : JsonNode.Parse(json) as JsonObject
                ?? throw new ConfigurationException("The job spec must be a JSON object.");
        }
        catch (JsonException e)
        {
            throw new ConfigurationException($"The job spec is not valid JSON: {e.Message}");
        }

        foreach ((string path, string value) in overrides)
        {
            Set(root, path, value);
        }

        try
        {
            return root.Deserialize<JobSpec>(JobSpecJson.Options) ?? new JobSpec();
        }
        catch (JsonException e)
        {
            string field = (e.Path ?? "$").TrimStart('$', '.');
            throw new ConfigurationException($"Configuration error at '{field}': {e.Message}");
        }
    }

    private static void Set(JsonObject root, string path, string value)
    {
        string[] segments = path.Split('.');
        if (segments.Any(string.IsNullOrWhiteSpace))
        {
            throw new ConfigurationException($"'--{path}' is not a field path (use dots between names, e.g. --training.steps).");
        }

        JsonObject node = root;
        foreach (string segment in segments[..^1])
        {
            if (node[segment] is not JsonObject child)
            {
                child = new JsonObject();
                node[segment] = child;
            }

            node = child;
        }

        node[segments[^1]] = ParseScalar(value);
    }

    private static JsonValue? ParseScalar(string value)
    {
        if (value is "true" or "false")
        {
            return JsonValue.Create(value == "true");
        }

        if (value == "null")
        {
            return null;
        }

        if (long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long integer))
        {
            return JsonValue.Create(integer);
        }

        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double number))
        {
            return JsonValue.Create(number);
        }

        return JsonValue.Create(value);
    }
}

/// <summary>A job spec that cannot be used; the message says which field and what to fix.</summary>
public sealed class ConfigurationException(string message) : Exception(message);
