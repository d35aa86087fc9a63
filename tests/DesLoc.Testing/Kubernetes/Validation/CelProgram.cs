using System.Text.Json.Nodes;

namespace DesLoc.Testing.Kubernetes.Validation;

/// <summary>
/// A compiled CEL expression of the subset CRD rules use: literals, self/oldSelf, selection, index, has(), operators,
/// ternary, size/int/double/string, string functions, matches, isSorted and the all/exists/exists_one/map/filter
/// macros. No static type check, uints, bytes, optionals, timestamps/durations or extension libraries. Compile throws <see cref="CelException"/> for anything outside the subset; Evaluate throws
/// <see cref="CelEvaluationException"/> for runtime errors.
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
