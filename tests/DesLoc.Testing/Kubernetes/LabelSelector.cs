using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace DesLoc.Testing.Kubernetes;

/// <summary>
/// A parsed <c>labelSelector</c> query: comma-separated requirements <c>a=b</c>, <c>a==b</c>, <c>a!=b</c>,
/// <c>a in (x,y)</c>, <c>a notin (x)</c>, <c>a</c> and <c>!a</c>, all of which must hold.
/// </summary>
internal sealed partial class LabelSelector
{
    private readonly List<Func<IReadOnlyDictionary<string, string>, bool>> _requirements;

    private LabelSelector(List<Func<IReadOnlyDictionary<string, string>, bool>> requirements) => _requirements = requirements;

    public static LabelSelector Everything { get; } = new([]);

    /// <exception cref="FormatException">The selector does not parse (the server answers 400).</exception>
    public static LabelSelector Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Everything;
        }

        var requirements = new List<Func<IReadOnlyDictionary<string, string>, bool>>();
        foreach (string part in SplitTopLevel(text))
        {
            requirements.Add(ParseRequirement(part.Trim()));
        }

        return new LabelSelector(requirements);
    }

    public bool Matches(JsonNode obj)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (obj["metadata"]?["labels"] is JsonObject map)
        {
            foreach ((string key, JsonNode? value) in map)
            {
                labels[key] = value?.GetValue<string>() ?? "";
            }
        }

        return _requirements.TrueForAll(requirement => requirement(labels));
    }

    private static Func<IReadOnlyDictionary<string, string>, bool> ParseRequirement(string part)
    {
        Match match;
        if ((match = SetPattern().Match(part)).Success)
        {
            string key = match.Groups["key"].Value;
            HashSet<string> values = [.. match.Groups["values"].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];
            return match.Groups["op"].Value == "in"
                ? labels => labels.TryGetValue(key, out string? value) && values.Contains(value)
                : labels => !labels.TryGetValue(key, out string? value) || !values.Contains(value);
        }

        if ((match = EqualityPattern().Match(part)).Success)
        {
            string key = match.Groups["key"].Value;
            string expected = match.Groups["value"].Value;
            return match.Groups["op"].Value == "!="
                ? labels => !labels.TryGetValue(key, out string? value) || value != expected
                : labels => labels.TryGetValue(key, out string? value) && value == expected;
        }

        if ((match = ExistsPattern().Match(part)).Success)
        {
            string key = match.Groups["key"].Value;
            return match.Groups["not"].Success ? labels => !labels.ContainsKey(key) : labels => labels.ContainsKey(key);
        }

        throw new FormatException($"unable to parse requirement: \"{part}\"");
    }

    /// <summary>Commas inside <c>( )</c> belong to a set, not to the list of requirements.</summary>
    private static IEnumerable<string> SplitTopLevel(string text)
    {
        int depth = 0, start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            depth += text[i] switch { '(' => 1, ')' => -1, _ => 0 };
            if (text[i] == ',' && depth == 0)
            {
                yield return text[start..i];
                start = i + 1;
            }
        }

        yield return text[start..];
    }

    [GeneratedRegex(@"^(?<key>[A-Za-z0-9._/-]+)\s+(?<op>in|notin)\s*\((?<values>[^)]*)\)$")]
    private static partial Regex SetPattern();

    [GeneratedRegex(@"^(?<key>[A-Za-z0-9._/-]+)\s*(?<op>==|=|!=)\s*(?<value>[A-Za-z0-9._-]*)$")]
    private static partial Regex EqualityPattern();

    [GeneratedRegex(@"^(?<not>!)?\s*(?<key>[A-Za-z0-9._/-]+)$")]
    private static partial Regex ExistsPattern();
}
