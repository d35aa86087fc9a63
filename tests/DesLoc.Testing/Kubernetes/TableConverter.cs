using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DesLoc.Testing.Kubernetes;

/// <summary>
/// The <c>meta.k8s.io/v1 Table</c> that <c>kubectl get</c> asks for (<c>Accept: application/json;as=Table;...</c>):
/// Name, then the CRD's <c>additionalPrinterColumns</c> (JSONPath subset: dotted fields and <c>[n]</c> indexes),
/// or Name and Age for resources without printer columns.
/// </summary>
internal static class TableConverter
{
    public static bool Wanted(string? accept) => accept is not null && accept.Contains("as=Table", StringComparison.Ordinal);

    public static JsonObject Convert(ResourceType type, long resourceVersion, IEnumerable<JsonObject> items)
    {
        var columns = new List<(string Name, string Type, string Path)>();
        if (type.PrinterColumns is { Count: > 0 } printerColumns)
        {
            foreach (JsonNode? column in printerColumns)
            {
                columns.Add((column!["name"]!.GetValue<string>(), column["type"]?.GetValue<string>() ?? "string", column["jsonPath"]!.GetValue<string>()));
            }
        }
        else
        {
            columns.Add(("Age", "date", ".metadata.creationTimestamp"));
        }

        var definitions = new JsonArray(new JsonObject
        {
            ["name"] = "Name", ["type"] = "string", ["format"] = "name", ["description"] = "Name of the object", ["priority"] = 0,
        });
        foreach ((string name, string columnType, _) in columns)
        {
            definitions.Add(new JsonObject { ["name"] = name, ["type"] = columnType, ["format"] = "", ["description"] = name, ["priority"] = 0 });
        }

        var rows = new JsonArray();
        foreach (JsonObject item in items)
        {
            var cells = new JsonArray(item["metadata"]?["name"]?.DeepClone());
            foreach ((_, string columnType, string path) in columns)
            {
                cells.Add(Cell(columnType, Read(item, path)));
            }

            rows.Add(new JsonObject
            {
                ["cells"] = cells,
                ["object"] = new JsonObject
                {
                    ["kind"] = "PartialObjectMetadata",
                    ["apiVersion"] = "meta.k8s.io/v1",
                    ["metadata"] = item["metadata"]?.DeepClone(),
                },
            });
        }

        return new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = "meta.k8s.io/v1",
            ["metadata"] = new JsonObject { ["resourceVersion"] = resourceVersion.ToString(CultureInfo.InvariantCulture) },
            ["columnDefinitions"] = definitions,
            ["rows"] = rows,
        };
    }

    private static JsonNode? Read(JsonNode obj, string path)
    {
        JsonNode? node = obj;
        foreach (string step in path.Trim('{', '}').TrimStart('.').Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            int bracket = step.IndexOf('[', StringComparison.Ordinal);
            string field = bracket < 0 ? step : step[..bracket];
            node = node is JsonObject map ? map[field] : null;
            if (bracket >= 0 && int.TryParse(step[(bracket + 1)..^1], NumberStyles.None, CultureInfo.InvariantCulture, out int index))
            {
                node = node is JsonArray list && index < list.Count ? list[index] : null;
            }
        }

        return node;
    }

    /// <summary>Dates print as an age ("5m"), as the apiserver's table convertor prints them; missing values as "".</summary>
    private static JsonNode? Cell(string columnType, JsonNode? value)
    {
        if (value is null)
        {
            return null;
        }

        if (columnType == "date" && value.GetValueKind() == JsonValueKind.String
            && DateTimeOffset.TryParse(value.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset when))
        {
            return Age(DateTimeOffset.UtcNow - when);
        }

        return value.DeepClone();
    }

    private static string Age(TimeSpan age) => age switch
    {
        { TotalSeconds: < 120 } => $"{Math.Max(0, (int)age.TotalSeconds)}s",
        { TotalMinutes: < 120 } => $"{(int)age.TotalMinutes}m",
        { TotalHours: < 48 } => $"{(int)age.TotalHours}h",
        _ => $"{(int)age.TotalDays}d",
    };
}
