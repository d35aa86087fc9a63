using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DesLoc.Testing.Kubernetes.Validation;

/// <summary>
/// CEL runtime values as CLR objects: <see cref="long"/> (int), <see cref="double"/>, <see cref="string"/>,
/// <see cref="bool"/>, null, <see cref="IReadOnlyList{T}"/> of values (list) and
/// <see cref="IReadOnlyDictionary{TKey, TValue}"/> keyed by the JSON object's property names (map).
/// </summary>
internal static class CelValues
{
    /// <summary>
    /// JSON to CEL values. With a schema, <c>type: number</c> becomes double and <c>type: integer</c> int, as the
    /// apiserver types them; without one, a number written without fraction or exponent is an int.
    /// </summary>
    public static object? FromJson(JsonNode? node, JsonNode? schema = null)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonObject obj:
                var map = new Dictionary<object, object?>(obj.Count);
                foreach (var (key, value) in obj)
                {
                    map[key] = FromJson(value, SchemaKeywords.ChildSchema(schema, key));
                }

                return map;
            case JsonArray array:
                JsonNode? items = schema?["items"];
                return array.Select(item => FromJson(item, items)).ToList();
        }

        switch (node.GetValueKind())
        {
            case JsonValueKind.String:
                return node.GetValue<string>();
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            case JsonValueKind.Number:
                string raw = node.ToJsonString();
                string? type = SchemaKeywords.Type(schema);
                if (type == "number")
                {
                    return double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture);
                }

                if (long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long integer))
                {
                    return integer;
                }

                double number = double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture);
                return type == "integer" && Math.Abs(number) < 9.2e18 ? (long)number : number;
            default:
                return null;
        }
    }

    public static string TypeName(object? value) => value switch
    {
        null => "null_type",
        long => "int",
        double => "double",
        string => "string",
        bool => "bool",
        IReadOnlyList<object?> => "list",
        IReadOnlyDictionary<object, object?> => "map",
        _ => value.GetType().Name,
    };

    /// <summary>CEL's heterogeneous equality: ints and doubles compare numerically, other kinds never equal.</summary>
    public static bool AreEqual(object? a, object? b)
    {
        switch (a, b)
        {
            case (null, null):
                return true;
            case (null, _) or (_, null):
                return false;
            case (long x, long y):
                return x == y;
            case (long or double, long or double):
                return CompareNumbers(a, b) == 0;
            case (IReadOnlyList<object?> x, IReadOnlyList<object?> y):
                return x.Count == y.Count && x.Zip(y).All(pair => AreEqual(pair.First, pair.Second));
            case (IReadOnlyDictionary<object, object?> x, IReadOnlyDictionary<object, object?> y):
                return x.Count == y.Count && x.All(entry => y.TryGetValue(entry.Key, out object? other) && AreEqual(entry.Value, other));
            default:
                return a.GetType() == b.GetType() && a.Equals(b);
        }
    }

    /// <summary>Orders two numbers; null when unordered (NaN) or not numbers (the kit orders nothing else).</summary>
    public static int? Compare(object? a, object? b) => (a, b) switch
    {
        (long x, long y) => x.CompareTo(y),
        (long or double, long or double) => CompareNumbers(a, b),
        _ => null,
    };

    private static int? CompareNumbers(object a, object b) => (a, b) switch
    {
        (double x, double y) => double.IsNaN(x) || double.IsNaN(y) ? null : x.CompareTo(y),
        (long x, double y) => double.IsNaN(y) ? null : CompareIntDouble(x, y),
        (double x, long y) => double.IsNaN(x) ? null : -CompareIntDouble(y, x),
        _ => ((long)a).CompareTo((long)b),
    };

    // Exact: converting a large int to double would round it.
    private static int CompareIntDouble(long x, double y)
    {
        if (y >= 9223372036854775808.0)
        {
            return -1;
        }

        if (y < -9223372036854775808.0)
        {
            return 1;
        }

        double whole = Math.Truncate(y);
        long truncated = (long)whole;
        return x != truncated ? x.CompareTo(truncated) : 0.0.CompareTo(y - whole);
    }
}
