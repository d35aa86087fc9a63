using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.RepresentationModel;

namespace DesLoc.Operator.Tests.Chart;

/// <summary>Files of the repository the chart tests read, and YAML as JSON (YAML 1.2 core schema, like the API server).</summary>
internal static class RepoFiles
{
    public static string Root { get; } = FindRoot();

    public static string ChartDirectory => Path(["charts", "desloc-operator"]);

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    public static string Chart(params string[] parts) => System.IO.Path.Combine([ChartDirectory, .. parts]);

    public static IReadOnlyList<string> Samples() =>
        [.. Directory.GetFiles(Path("samples"), "*.yaml").Order(StringComparer.Ordinal)];

    /// <summary>Every document of a YAML stream, as JSON.</summary>
    public static IReadOnlyList<JsonNode?> YamlDocuments(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        // Through JSON text, so numbers behave like those of a parsed request body (an int64 reads as a double too).
        return [.. stream.Documents.Select(d => ToJson(d.RootNode) is { } node ? JsonNode.Parse(node.ToJsonString()) : null)];
    }

    public static JsonNode YamlFile(string path) =>
        YamlDocuments(File.ReadAllText(path)).Single() ?? throw new InvalidOperationException($"{path} is empty.");

    private static string FindRoot()
    {
        string? directory = AppContext.BaseDirectory;
        while (directory is not null && !File.Exists(System.IO.Path.Combine(directory, "DesLoc.sln")))
        {
            directory = System.IO.Path.GetDirectoryName(directory);
        }

        return directory ?? throw new InvalidOperationException("DesLoc.sln not found above the test output.");
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode mapping => new JsonObject(mapping.Children.Select(p => KeyValuePair.Create(((YamlScalarNode)p.Key).Value ?? "", ToJson(p.Value)))),
        YamlSequenceNode sequence => new JsonArray([.. sequence.Children.Select(ToJson)]),
        YamlScalarNode scalar => Scalar(scalar),
        _ => throw new InvalidOperationException($"Unsupported YAML node at {node.Start}."),
    };

    private static JsonValue? Scalar(YamlScalarNode scalar)
    {
        string value = scalar.Value ?? "";
        if (scalar.Style != YamlDotNet.Core.ScalarStyle.Plain)
        {
            return JsonValue.Create(value);
        }

        if (value is "" or "~" or "null" or "Null" or "NULL")
        {
            return null;
        }

        if (value is "true" or "True" or "TRUE" or "false" or "False" or "FALSE")
        {
            return JsonValue.Create(value.Equals("true", StringComparison.OrdinalIgnoreCase));
        }

        if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long integer))
        {
            return JsonValue.Create(integer);
        }

        return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double number)
            ? JsonValue.Create(number)
            : JsonValue.Create(value);
    }
}
