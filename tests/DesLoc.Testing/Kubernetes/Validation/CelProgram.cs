using System.Text.Json.Nodes;

namespace DesLoc.Testing.Kubernetes.Validation;

/// <summary>
/// A compiled CEL expression of the subset this project's CRD rules and the kit's tests use, evaluated as
/// kube-apiserver's cel-go does (errors worded as cel-go words them, commutative <c>&amp;&amp;</c>/<c>||</c>/
/// <c>all</c>/<c>exists</c>, exact int/double comparison, numbers typed by the schema as int or double).
/// Covers: decimal int and double literals (no exponent), quoted strings without escapes, <c>true</c>/<c>false</c>,
/// list literals; <c>self</c>/<c>oldSelf</c> (transition rules), field selection, list index, <c>has()</c>; unary
/// <c>! -</c>, binary <c>* / % + - == != &amp;&amp; ||</c> (<c>+</c> also joins strings),
/// <c>&lt; &lt;= &gt; &gt;=</c> on numbers, <c>?:</c>; <c>size</c> of a string or list, <c>string()</c> of an int,
/// double, string or bool, <c>startsWith</c>; the <c>all</c>/<c>exists</c> macros over a list. Runtime errors as the
/// apiserver words them: <c>no such key: X</c>, <c>no such overload</c>, <c>index out of bounds: N</c>,
/// <c>division by zero</c>, <c>modulus by zero</c>, <c>integer overflow</c>.
/// Does not cover, and refuses at compile time with a <see cref="CelException"/> at the position: any other function
/// or macro (<c>exists_one</c>, <c>map</c>, <c>filter</c>, <c>matches</c>, <c>isSorted</c>, <c>int()</c>,
/// <c>double()</c>, <c>endsWith</c>, <c>contains</c>, the Kubernetes libraries), the <c>in</c> operator, map
/// literals, <c>null</c>, escapes, raw, triple-quoted and bytes strings, hex, unsigned and exponent literals, comments,
/// optionals. Not covered either, and reported at evaluation as <c>no such overload</c> with a detail naming the kit:
/// indexing a map, ordering strings or bools, macros over a map; there is no static type checking, so other type
/// errors also surface at evaluation. Evaluate throws <see cref="CelEvaluationException"/> for runtime errors.
/// <para>
/// Why not the <c>Cel</c> NuGet package (0.3.3, tried against the project's rules and this kit's tests): it has no
/// compile-time check (undeclared names, unknown functions, <c>1u</c>, <c>b'..'</c>, <c>self.?a</c>,
/// <c>timestamp()</c> compile, the last three even evaluate) and it departs from cel-go where the rules depend on it:
/// an error inside <c>||</c>/<c>&amp;&amp;</c> becomes "Could not compare OR values" (so a missing
/// <c>self.algorithm.palsgd</c> is no <c>no such key: palsgd</c>), <c>self.nope || true</c> throws, <c>[0, 2].all(x,
/// 4 / x == 2)</c> yields null, <c>[0, 1].exists(x, 1 / x == 1)</c> throws, double <c>* 2</c> is accepted,
/// <c>1 == 'a'</c> throws, <c>9007199254740993 &gt; 9007199254740992.0</c> is false, a missing map key or list index
/// carries neither key nor index ("Key out of range."), and <c>size()</c> is an Int32. Those are the semantics this
/// subset keeps.
/// </para>
/// </summary>
public sealed class CelProgram
{
    private readonly CelExpr _root;

    private CelProgram(string expression, CelExpr root, bool referencesOldSelf)
    {
        Expression = expression;
        _root = root;
        ReferencesOldSelf = referencesOldSelf;
    }

    public string Expression { get; }

    /// <summary>Whether the expression is a transition rule, skipped when there is no old object.</summary>
    public bool ReferencesOldSelf { get; }

    public static CelProgram Compile(string expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        CelExpr root = CelParser.Parse(expression);
        return new CelProgram(expression, root, CelChecker.Check(root));
    }

    /// <summary>
    /// Evaluates with <c>self</c> and <c>oldSelf</c> bound to the JSON values. The result is a long, double, string,
    /// bool, null, <see cref="IReadOnlyList{T}"/> or <see cref="IReadOnlyDictionary{TKey, TValue}"/>. With
    /// <paramref name="schema"/> (the node's schema), numbers are typed as the apiserver types them.
    /// </summary>
    public object? Evaluate(JsonNode? self, JsonNode? oldSelf = null, JsonNode? schema = null) =>
        CelInterpreter.Evaluate(_root, CelValues.FromJson(self, schema), CelValues.FromJson(oldSelf, schema));

    public bool EvaluateBool(JsonNode? self, JsonNode? oldSelf = null, JsonNode? schema = null) =>
        Evaluate(self, oldSelf, schema) is bool result
            ? result
            : throw new CelEvaluationException("no such overload", 0, "the expression does not evaluate to a bool");
}
