using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace DesLoc.Operator.Tests.Chart;

/// <summary>
/// The chart's alert rules file, its promtool unit tests, and the thresholds the PrometheusRule template substitutes:
/// each <c>replace "ANCHOR" (printf "FORMAT" ... $t.KEY)</c> of templates/prometheusrule.yaml.
/// </summary>
internal static partial class AlertRules
{
    public static string RulesPath => RepoFiles.Chart("files", "alerts.rules.yaml");

    public static string TestsPath => RepoFiles.Chart("files", "alerts.test.yaml");

    public static IReadOnlyList<JsonObject> Rules() =>
        [.. RepoFiles.YamlFile(RulesPath)["groups"]!.AsArray().SelectMany(g => g!["rules"]!.AsArray()).Select(r => r!.AsObject())];

    public static IReadOnlyList<string> AlertNames() => [.. Rules().Select(r => (string)r["alert"]!)];

    public static IReadOnlyList<Threshold> Thresholds()
    {
        string template = File.ReadAllText(RepoFiles.Chart("templates", "prometheusrule.yaml"));
        return [.. ReplaceCall().Matches(template).Select(m => new Threshold(m.Groups["anchor"].Value, m.Groups["format"].Value, m.Groups["key"].Value))];
    }

    /// <summary>The rules file as the PrometheusRule would carry it with one threshold set to <paramref name="value"/>.</summary>
    public static string WithThreshold(Threshold threshold, string value) =>
        File.ReadAllText(RulesPath).Replace(threshold.Anchor, threshold.Render(value), StringComparison.Ordinal);

    [GeneratedRegex("""replace "(?<anchor>[^"]+)" \(printf "(?<format>[^"]+)" (?:\(int64 )?\$t\.(?<key>\w+)\)?\)""")]
    private static partial Regex ReplaceCall();
}

/// <summary>One substituted threshold: the text in the rules file, the printf format that replaces it, its values key.</summary>
internal sealed record Threshold(string Anchor, string Format, string Key)
{
    /// <summary>What Helm's printf makes of the format with this value (%d of an int64, %v of a number).</summary>
    public string Render(string value) => Format.Replace("%d", value, StringComparison.Ordinal).Replace("%v", value, StringComparison.Ordinal);

    /// <summary>A values.yaml number as Helm prints it (integers without a decimal point).</summary>
    public static string Invariant(JsonNode node) => node.ToJsonString();
}
