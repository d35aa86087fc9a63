using System.Text.Json;
using System.Text.Json.Nodes;

namespace DesLoc.Testing.Kubernetes;

/// <summary>
/// A parsed <c>fieldSelector</c> query: comma-separated <c>path=value</c>, <c>path==value</c> or <c>path!=value</c>
/// over dotted paths (<c>metadata.name</c>, <c>metadata.namespace</c>, <c>status.phase</c>); a missing field reads as "".
/// </summary>
internal sealed class FieldSelector
{
    private readonly List<(string[] Path, string Value, bool Negated)> _terms;

    private FieldSelector(List<(string[] Path, string Value, bool Negated)> terms) => _terms = terms;

    public static FieldSelector Everything { get; } = new([]);

    /// <exception cref="FormatException">A term has no operator (the server answers 400).</exception>
    public static FieldSelector Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Everything;
        }

        var terms = new List<(string[], string, bool)>();
        foreach (string raw in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int bang = raw.IndexOf("!=", StringComparison.Ordinal);
            int equals = raw.IndexOf('=', StringComparison.Ordinal);
            if (bang > 0)
            {
                terms.Add((raw[..bang].Split('.'), raw[(bang + 2)..], true));
            }
            else if (equals > 0)
            {
                string value = raw[(equals + 1)..];
                terms.Add((raw[..equals].Split('.'), value.StartsWith('=') ? value[1..] : value, false));
            }
            else
            {
                throw new FormatException($"invalid selector: '{raw}'; can't understand '{raw}'");
            }
        }

        return new FieldSelector(terms);
    }

    public bool Matches(JsonNode obj) => _terms.TrueForAll(term => (Read(obj, term.Path) == term.Value) != term.Negated);

    private static string Read(JsonNode obj, string[] path)
    {
        JsonNode? node = obj;
        foreach (string step in path)
        {
            node = node is JsonObject map ? map[step] : null;
        }

        return node switch
        {
            null => "",
            JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
            _ => node.ToJsonString(),
        };
    }
}
