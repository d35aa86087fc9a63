using System.Globalization;

namespace DesLoc.Testing.Kubernetes.Validation;

/// <summary>
/// Evaluates a checked tree over CEL values (see <see cref="CelValues"/>). Runtime errors are
/// <see cref="CelEvaluationException"/>s; <c>&amp;&amp;</c>, <c>||</c>, <c>all</c> and <c>exists</c> absorb an error
/// when the other side decides the result, as CEL's commutative logic does.
/// </summary>
internal static class CelInterpreter
{
    private const string NoOverload = "no such overload";

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

    private static object? Index(CelIndex index, object? operand, object? key) => (operand, key) switch
    {
        (IReadOnlyList<object?> list, long i) => i >= 0 && i < list.Count ? list[(int)i] : throw Error($"index out of bounds: {i}", index),
        (IReadOnlyDictionary<object, object?>, _) => throw Error(NoOverload, index, "indexing a map is not supported by the test kit; select the field"),
        _ => throw Error(NoOverload, index, $"{CelValues.TypeName(operand)}[{CelValues.TypeName(key)}]"),
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
        }

        try
        {
            return (binary.Op, left, right) switch
            {
                ("+", long x, long y) => checked(x + y),
                ("+", double x, double y) => x + y,
                ("+", string x, string y) => x + y,
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
            return numbers ? false : throw Error(NoOverload, binary, $"{CelValues.TypeName(left)} {binary.Op} {CelValues.TypeName(right)} (the test kit orders numbers only)");
        }

        return binary.Op switch
        {
            "<" => o < 0,
            "<=" => o <= 0,
            ">" => o > 0,
            _ => o >= 0,
        };
    }

    private static object? Call(CelCall call, object? target, List<object?> args)
    {
        switch (call.Function, target, args)
        {
            case ("size", null, [var x]):
                return Size(call, x);
            case ("size", { } x, []):
                return Size(call, x);
            case ("string", null, [var x]):
                return ToText(call, x);
            case ("startsWith", string s, [string prefix]):
                return s.StartsWith(prefix, StringComparison.Ordinal);
            default:
                string types = string.Join(", ", args.Select(CelValues.TypeName));
                throw Error(NoOverload, call, target is null ? $"{call.Function}({types})" : $"{CelValues.TypeName(target)}.{call.Function}({types})");
        }
    }

    private static long Size(CelCall call, object? value) => value switch
    {
        string s => s.EnumerateRunes().Count(),
        IReadOnlyList<object?> list => list.Count,
        _ => throw Error(NoOverload, call, $"size({CelValues.TypeName(value)})"),
    };

    private static string ToText(CelCall call, object? value) => value switch
    {
        string s => s,
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => GoFormat.Float(d),
        bool b => b ? "true" : "false",
        _ => throw Error(NoOverload, call, $"string({CelValues.TypeName(value)})"),
    };

    // all: any false decides; exists: any true decides; otherwise the first error stands.
    private static bool Comprehension(CelComprehension c, Scope scope)
    {
        if (Eval(c.Range, scope) is not IReadOnlyList<object?> range)
        {
            throw Error(NoOverload, c, $"{c.Macro} over anything but a list is not supported by the test kit");
        }

        bool decisive = c.Macro == "exists";
        CelEvaluationException? firstError = null;
        foreach (object? element in range)
        {
            try
            {
                object? result = Eval(c.Body, new Scope(c.Variable, element, scope));
                if ((result as bool? ?? throw Error(NoOverload, c.Body, $"predicate of {c.Macro} is not a bool")) == decisive)
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
