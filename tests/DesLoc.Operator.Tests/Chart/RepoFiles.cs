using System.Text.Json.Nodes;
using DesLoc.Operator.Local;
using DesLoc.Testing;

namespace DesLoc.Operator.Tests.Chart;

/// <summary>Files of the repository the chart tests read, and YAML as JSON (YAML 1.2 core schema, like the API server).</summary>
internal static class RepoFiles
{
    public static string Root => RepositoryFiles.Root;

    public static string ChartDirectory => Path(["charts", "desloc-operator"]);

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    public static string Chart(params string[] parts) => System.IO.Path.Combine([ChartDirectory, .. parts]);

    public static IReadOnlyList<string> Samples() =>
        [.. Directory.GetFiles(Path("samples"), "*.yaml").Order(StringComparer.Ordinal)];

    /// <summary>Every document of a YAML stream, as JSON.</summary>
    public static IReadOnlyList<JsonNode?> YamlDocuments(string yaml)
    {
        // Through JSON text, so numbers behave like those of a parsed request body (an int64 reads as a double too).
        return [.. YamlJson.Documents(yaml).Select(node => node is null ? null : JsonNode.Parse(node.ToJsonString()))];
    }

    public static JsonNode YamlFile(string path) =>
        YamlDocuments(File.ReadAllText(path)).Single() ?? throw new InvalidOperationException($"{path} is empty.");
}
