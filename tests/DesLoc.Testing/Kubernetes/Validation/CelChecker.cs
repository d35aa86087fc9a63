namespace DesLoc.Testing.Kubernetes.Validation;

/// <summary>
/// Compile-time checks the apiserver's type checker would also make: every identifier is declared and every
/// function is one this evaluator implements, so an unsupported rule throws at compile time, not at run time.
/// </summary>
internal static class CelChecker
{
    private static readonly HashSet<(string Name, int Arity)> s_globals =
        [("size", 1), ("string", 1)];

    private static readonly HashSet<(string Name, int Arity)> s_members =
        [("size", 0), ("startsWith", 1)];

    /// <summary>Checks the tree; returns whether it references <c>oldSelf</c> (a transition rule).</summary>
    public static bool Check(CelExpr expr)
    {
        bool usesOldSelf = false;
        Visit(expr, new HashSet<string> { "self", "oldSelf" }, ref usesOldSelf);
        return usesOldSelf;
    }

    private static void Visit(CelExpr expr, IReadOnlySet<string> scope, ref bool usesOldSelf)
    {
        switch (expr)
        {
            case CelLiteral:
                break;
            case CelIdent ident:
                if (!scope.Contains(ident.Name))
                {
                    throw new CelException($"undeclared reference to '{ident.Name}'", ident.Position);
                }

                usesOldSelf |= ident.Name == "oldSelf";
                break;
            case CelSelect select:
                Visit(select.Operand, scope, ref usesOldSelf);
                break;
            case CelIndex index:
                Visit(index.Operand, scope, ref usesOldSelf);
                Visit(index.Key, scope, ref usesOldSelf);
                break;
            case CelCall call:
                var supported = call.Target is null ? s_globals : s_members;
                if (!supported.Contains((call.Function, call.Args.Count)))
                {
                    string form = call.Target is null ? $"{call.Function}/{call.Args.Count}" : $".{call.Function}/{call.Args.Count}";
                    throw new CelException($"function or macro '{form}' is not supported by the test kit", call.Position);
                }

                if (call.Target is not null)
                {
                    Visit(call.Target, scope, ref usesOldSelf);
                }

                foreach (CelExpr arg in call.Args)
                {
                    Visit(arg, scope, ref usesOldSelf);
                }

                break;
            case CelUnary unary:
                Visit(unary.Operand, scope, ref usesOldSelf);
                break;
            case CelBinary binary:
                Visit(binary.Left, scope, ref usesOldSelf);
                Visit(binary.Right, scope, ref usesOldSelf);
                break;
            case CelConditional conditional:
                Visit(conditional.Condition, scope, ref usesOldSelf);
                Visit(conditional.Then, scope, ref usesOldSelf);
                Visit(conditional.Else, scope, ref usesOldSelf);
                break;
            case CelListLiteral list:
                foreach (CelExpr item in list.Items)
                {
                    Visit(item, scope, ref usesOldSelf);
                }

                break;
            case CelComprehension comprehension:
                Visit(comprehension.Range, scope, ref usesOldSelf);
                Visit(comprehension.Body, new HashSet<string>(scope) { comprehension.Variable }, ref usesOldSelf);
                break;
            default:
                throw new CelException($"unsupported expression {expr.GetType().Name}", expr.Position);
        }
    }
}
