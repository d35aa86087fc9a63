using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;

namespace DesLoc.Testing.Kubernetes.Validation;

/// <summary>
/// Evaluates a checked tree over CEL values (see <see cref="CelValues"/>). Runtime errors are
/// <see cref="CelEvaluationException"/>s; <c>&amp;&amp;</c>, <c>||</c>, <c>all</c> and <c>exists</c> absorb an error
/// when the other side decides the result, as CEL's commutative logic does.
/// </summary>
internal static class CelInterpreter
{
    private const string NoOverload = "no such overload";

    private static readonly ConcurrentDictionary<string, Regex> s_regexes = new();

    public static object? Evaluate(CelExpr expr, object? self, object? oldSelf) =>
        Eval(expr, new Scope("oldSelf", oldSelf, new Scope("self", self, null)));

    private static object? Eval(CelExpr expr, Scope scope) => expr switch
    {
        CelLiteral literal => literal.Value,
        CelIdent ident => scope.Lookup(ident.Name),
        CelSelect select => Select(select, Eval(select.Operand, scope)),
        CelIndex index => Index(index, Eval(index.Operand, scope), Eval(index.Key, scope)),
        CelUnary unary => Unary(unary, Eval(unary.Operand, scope)),
        CelBinary { Op: "&&" or "||" } logical => Logical(logical, scope),
        CelBinary binary => Binary(binary, Eval(binary.Left, scope), Eval(binary.Right, scope)),
        CelConditional conditional => Eval(conditional.Condition, scope) is bool condition
            ? Eval(condition ? conditional.Then : conditional.Else, scope)
            : throw Error(NoOverload, conditional, "condition is not a bool"),
        CelListLiteral list => list.Items.Select(item => Eval(item, scope)).ToList(),
        CelMapLiteral map => MapLiteral(map, scope),
        CelCall call => Call(call, call.Target is null ? null : Eval(call.Target, scope), call.Args.Select(arg => Eval(arg, scope)).ToList()),
        CelComprehension comprehension => Comprehension(comprehension, scope),
        _ => throw new CelException($"unsupported expression {expr.GetType().Name}", expr.Position),
    };

    private static object? Select(CelSelect select, object? operand)
    {
        if (operand is not IReadOnlyDictionary<object, object?> map)
        {
            throw Error(NoOverload, select, $"field selection on {CelValues.TypeName(operand)}");
        }

        bool found = map.TryGetValue(select.Field, out object? value);
        return select.TestOnly ? found : found ? value : throw Error($"no such key: {select.Field}", select);
    }

    private static object? Index(CelIndex index, object? operand, object? key)
    {
        switch (operand, key)
        {
            case (IReadOnlyList<object?> list, long i):
                return i >= 0 && i < list.Count ? list[(int)i] : throw Error($"index out of bounds: {i}", index);
            case (IReadOnlyDictionary<object, object?> map, _):
                object lookup = MapKey(key) ?? throw Error(NoOverload, index, $"map key of type {CelValues.TypeName(key)}");
                return map.TryGetValue(lookup, out object? value) ? value : throw Error($"no such key: {KeyText(lookup)}", index);
            default:
                throw Error(NoOverload, index, $"{CelValues.TypeName(operand)}[{CelValues.TypeName(key)}]");
        }
    }

    // Map keys are int, string or bool; a whole double finds an int key, as heterogeneous equality has it.
    private static object? MapKey(object? key) => key switch
    {
        long or string or bool => key,
        double d when Math.Truncate(d) == d && Math.Abs(d) < 9.2e18 => (long)d,
        _ => null,
    };

    private static string KeyText(object key) => key switch
    {
        bool b => b ? "true" : "false",
        _ => Convert.ToString(key, CultureInfo.InvariantCulture)!,
    };

    private static object? Unary(CelUnary unary, object? operand) => (unary.Op, operand) switch
    {
        ("!", bool b) => !b,
        ("-", long l) => l == long.MinValue ? throw Error("integer overflow", unary) : -l,
        ("-", double d) => -d,
        _ => throw Error(NoOverload, unary, $"{unary.Op}{CelValues.TypeName(operand)}"),
    };

    private static bool Logical(CelBinary logical, Scope scope)
    {
        // The deciding value (false for &&, true for ||) wins over an error on either side.
        bool decisive = logical.Op == "||";
        CelEvaluationException? leftError = null;
        try
        {
            object? left = Eval(logical.Left, scope);
            if (left is bool l)
            {
                if (l == decisive)
                {
                    return decisive;
                }
            }
            else
            {
                leftError = Error(NoOverload, logical, $"{CelValues.TypeName(left)} {logical.Op} ...");
            }
        }
        catch (CelEvaluationException error)
        {
            leftError = error;
        }

        object? right = Eval(logical.Right, scope);
        if (right is not bool r)
        {
            throw leftError ?? Error(NoOverload, logical, $"... {logical.Op} {CelValues.TypeName(right)}");
        }

        return r == decisive ? decisive : leftError is null ? !decisive : throw leftError;
    }

    private static object? Binary(CelBinary binary, object? left, object? right)
    {
        switch (binary.Op)
        {
            case "==":
                return CelValues.AreEqual(left, right);
            case "!=":
                return !CelValues.AreEqual(left, right);
            case "<" or "<=" or ">" or ">=":
                return Relation(binary, left, right);
            case "in":
                return In(binary, left, right);
        }

        try
        {
            return (binary.Op, left, right) switch
            {
                ("+", long x, long y) => checked(x + y),
                ("+", double x, double y) => x + y,
                ("+", string x, string y) => x + y,
                ("+", IReadOnlyList<object?> x, IReadOnlyList<object?> y) => x.Concat(y).ToList(),
                ("-", long x, long y) => checked(x - y),
                ("-", double x, double y) => x - y,
                ("*", long x, long y) => checked(x * y),
                ("*", double x, double y) => x * y,
                ("/", long _, 0L) => throw Error("division by zero", binary),
                ("/", long x, long y) => x == long.MinValue && y == -1 ? throw new OverflowException() : x / y,
                ("/", double x, double y) => x / y,
                ("%", long _, 0L) => throw Error("modulus by zero", binary),
                ("%", long x, long y) => x == long.MinValue && y == -1 ? throw new OverflowException() : x % y,
                _ => throw Error(NoOverload, binary, $"{CelValues.TypeName(left)} {binary.Op} {CelValues.TypeName(right)}"),
            };
        }
        catch (OverflowException)
        {
            throw Error("integer overflow", binary);
        }
    }

    private static bool Relation(CelBinary binary, object? left, object? right)
    {
        bool numbers = left is long or double && right is long or double;
        int? order = CelValues.Compare(left, right);
        if (order is not { } o)
        {
            // NaN is unordered: every comparison with it is false.
            return numbers ? false : throw Error(NoOverload, binary, $"{CelValues.TypeName(left)} {binary.Op} {CelValues.TypeName(right)}");
        }

        return binary.Op switch
        {
            "<" => o < 0,
            "<=" => o <= 0,
            ">" => o > 0,
            _ => o >= 0,
        };
    }

    private static bool In(CelBinary binary, object? element, object? container) => container switch
    {
        IReadOnlyList<object?> list => list.Any(item => CelValues.AreEqual(element, item)),
        IReadOnlyDictionary<object, object?> map => MapKey(element) is { } key && map.ContainsKey(key),
        _ => throw Error(NoOverload, binary, $"{CelValues.TypeName(element)} in {CelValues.TypeName(container)}"),
    };

    private static Dictionary<object, object?> MapLiteral(CelMapLiteral literal, Scope scope)
    {
        var map = new Dictionary<object, object?>();
        foreach (var (keyExpr, valueExpr) in literal.Entries)
        {
            object? key = Eval(keyExpr, scope);
            if (key is not (long or string or bool))
            {
                throw Error("unsupported key type", keyExpr, CelValues.TypeName(key));
            }

            if (!map.TryAdd(key, Eval(valueExpr, scope)))
            {
                throw Error($"Failed with repeated key: {KeyText(key)}", keyExpr);
            }
        }

        return map;
    }

    private static object? Call(CelCall call, object? target, List<object?> args)
    {
        switch (call.Function, target, args)
        {
            case ("size", null, [var x]):
                return Size(call, x);
            case ("size", { } x, []):
                return Size(call, x);
            case ("int", null, [var x]):
                return ToInt(call, x);
            case ("double", null, [var x]):
                return ToDouble(call, x);
            case ("string", null, [var x]):
                return ToText(call, x);
            case ("startsWith", string s, [string prefix]):
                return s.StartsWith(prefix, StringComparison.Ordinal);
            case ("endsWith", string s, [string suffix]):
                return s.EndsWith(suffix, StringComparison.Ordinal);
            case ("contains", string s, [string part]):
                return s.Contains(part, StringComparison.Ordinal);
            case ("matches", string s, [string pattern]):
                return Matches(call, s, pattern);
            case ("matches", null, [string s, string pattern]):
                return Matches(call, s, pattern);
            case ("isSorted", IReadOnlyList<object?> list, []):
                return IsSorted(call, list);
            default:
                string types = string.Join(", ", args.Select(CelValues.TypeName));
                throw Error(NoOverload, call, target is null ? $"{call.Function}({types})" : $"{CelValues.TypeName(target)}.{call.Function}({types})");
        }
    }

    private static long Size(CelCall call, object? value) => value switch
    {
        string s => s.EnumerateRunes().Count(),
        IReadOnlyList<object?> list => list.Count,
        IReadOnlyDictionary<object, object?> map => map.Count,
        _ => throw Error(NoOverload, call, $"size({CelValues.TypeName(value)})"),
    };

    private static long ToInt(CelCall call, object? value) => value switch
    {
        long l => l,
        double d => double.IsFinite(d) && d > -9223372036854775809.0 && d < 9223372036854775808.0
            ? (long)d
            : throw Error("range error converting " + GoFormat.Float(d) + " to int", call),
        string s => long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long parsed)
            ? parsed
            : throw Error($"strconv.ParseInt: parsing {GoFormat.Quote(s)}: invalid syntax", call),
        _ => throw Error(NoOverload, call, $"int({CelValues.TypeName(value)})"),
    };

    private static double ToDouble(CelCall call, object? value) => value switch
    {
        long l => l,
        double d => d,
        string s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed)
            ? parsed
            : throw Error($"strconv.ParseFloat: parsing {GoFormat.Quote(s)}: invalid syntax", call),
        _ => throw Error(NoOverload, call, $"double({CelValues.TypeName(value)})"),
    };

    private static string ToText(CelCall call, object? value) => value switch
    {
        string s => s,
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => GoFormat.Float(d),
        bool b => b ? "true" : "false",
        _ => throw Error(NoOverload, call, $"string({CelValues.TypeName(value)})"),
    };

    private static bool Matches(CelCall call, string text, string pattern)
    {
        Regex regex;
        try
        {
            // RE2 syntax is, for the patterns CRDs use, a subset of .NET's; matches() is a search, not a full match.
            regex = s_regexes.GetOrAdd(pattern, p => new Regex(p, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)));
        }
        catch (ArgumentException error)
        {
            throw Error($"invalid regular expression: {error.Message}", call);
        }

        return regex.IsMatch(text);
    }

    private static bool IsSorted(CelCall call, IReadOnlyList<object?> list)
    {
        for (int i = 1; i < list.Count; i++)
        {
            int order = CelValues.Compare(list[i - 1], list[i])
                ?? throw Error(NoOverload, call, $"isSorted over {CelValues.TypeName(list[i - 1])} and {CelValues.TypeName(list[i])}");
            if (order > 0)
            {
                return false;
            }
        }

        return true;
    }

    private static object? Comprehension(CelComprehension c, Scope scope)
    {
        IReadOnlyList<object?> range = Eval(c.Range, scope) switch
        {
            IReadOnlyList<object?> list => list,
            IReadOnlyDictionary<object, object?> map => map.Keys.ToList(),
            var other => throw Error(NoOverload, c, $"{c.Macro} over {CelValues.TypeName(other)}"),
        };

        bool Predicate(CelExpr predicate, object? element) =>
            Eval(predicate, new Scope(c.Variable, element, scope)) is bool b
                ? b
                : throw Error(NoOverload, predicate, $"predicate of {c.Macro} is not a bool");

        switch (c.Macro)
        {
            case "all" or "exists":
                // all: any false decides; exists: any true decides; otherwise the first error stands.
                bool decisive = c.Macro == "exists";
                CelEvaluationException? firstError = null;
                foreach (object? element in range)
                {
                    try
                    {
                        if (Predicate(c.Body, element) == decisive)
                        {
                            return decisive;
                        }
                    }
                    catch (CelEvaluationException error)
                    {
                        firstError ??= error;
                    }
                }

                return firstError is null ? !decisive : throw firstError;
            case "exists_one":
                return range.Count(element => Predicate(c.Body, element)) == 1;
            case "filter":
                return range.Where(element => Predicate(c.Body, element)).ToList();
            default:
                return range
                    .Where(element => c.Filter is null || Predicate(c.Filter, element))
                    .Select(element => Eval(c.Body, new Scope(c.Variable, element, scope)))
                    .ToList();
        }
    }

    private static CelEvaluationException Error(string reason, CelExpr at, string? detail = null) => new(reason, at.Position, detail);

    private sealed record Scope(string Name, object? Value, Scope? Parent)
    {
        public object? Lookup(string name)
        {
            for (Scope? s = this; s is not null; s = s.Parent)
            {
                if (s.Name == name)
                {
                    return s.Value;
                }
            }

            throw new CelException($"undeclared reference to '{name}'", 0);
        }
    }
}
