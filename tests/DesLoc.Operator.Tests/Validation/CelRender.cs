using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace DesLoc.Operator.Tests.Validation;

/// <summary>Prints a CEL result so tables can state it: ints bare, doubles with a point, strings as JSON.</summary>
internal static class CelRender
{
    private static readonly JsonSerializerOptions s_options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Render(object? value) => value switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d when double.IsInteger(d) => d.ToString("R", CultureInfo.InvariantCulture) + ".0",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        string s => JsonSerializer.Serialize(s, s_options),
        IReadOnlyList<object?> list => "[" + string.Join(", ", list.Select(Render)) + "]",
        IReadOnlyDictionary<object, object?> map => "{" + string.Join(", ", map.Select(e => $"{Render(e.Key)}: {Render(e.Value)}")) + "}",
        _ => throw new ArgumentException($"not a CEL value: {value.GetType()}", nameof(value)),
    };
}
