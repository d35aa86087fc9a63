using System.Numerics;

namespace DesLoc.Testing.Kubernetes.Validation;

/// <summary>Recursive descent for unary, member and primary expressions; precedence climbing for binary operators.</summary>
internal sealed class CelParser
{
    private static readonly HashSet<string> s_reserved =
    [
        "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop", "package",
        "namespace", "return", "var", "void", "while", "in",
    ];

        private static readonly BigInteger s_minMagnitude = BigInteger.One << 63;

    private readonly IReadOnlyList<CelToken> _tokens;
    private int _next;

    private CelParser(IReadOnlyList<CelToken> tokens)
    {
        _tokens = tokens;
    }

    private CelToken Current => _tokens[_next];

    public static CelExpr Parse(string expression)
    {
        var parser = new CelParser(CelLexer.Tokenize(expression));
        CelExpr expr = parser.ParseExpr();
        if (parser.Current.Kind != CelTokenKind.End)
        {
            throw new CelException($"unexpected '{parser.Current.Text}'", parser.Current.Position);
        }

        return expr;
    }

    private static int Precedence(CelToken token) => token switch
    {
        { Kind: CelTokenKind.Punct, Text: "||" } => 1,
        { Kind: CelTokenKind.Punct, Text: "&&" } => 2,
        { Kind: CelTokenKind.Punct, Text: "==" or "!=" or "<" or "<=" or ">" or ">=" } => 3,
        { Kind: CelTokenKind.Punct, Text: "+" or "-" } => 4,
        { Kind: CelTokenKind.Punct, Text: "*" or "/" or "%" } => 5,
        _ => 0,
    };

    private CelExpr ParseExpr()
    {
        CelExpr condition = ParseBinary(1);
        if (!IsPunct("?"))
        {
            return condition;
        }

        int position = Advance().Position;
        CelExpr then = ParseBinary(1);
        Expect(":");
        CelExpr otherwise = ParseExpr();
        return new CelConditional(position, condition, then, otherwise);
    }

    private CelExpr ParseBinary(int minPrecedence)
    {
        CelExpr left = ParseUnary();
        while (true)
        {
            if (Current is { Kind: CelTokenKind.Ident, Text: "in" })
            {
                throw new CelException("operator 'in' is not supported by the test kit", Current.Position);
            }

            int precedence = Precedence(Current);
            if (precedence == 0 || precedence < minPrecedence)
            {
                return left;
            }

            CelToken op = Advance();
            CelExpr right = ParseBinary(precedence + 1);
            left = new CelBinary(op.Position, op.Text, left, right);
        }
    }

    private CelExpr ParseUnary()
    {
        if (IsPunct("!"))
        {
            int position = Advance().Position;
            return new CelUnary(position, "!", ParseUnary());
        }

        if (IsPunct("-"))
        {
            int position = Advance().Position;
            if (Current.Kind == CelTokenKind.Int)
            {
                // Folded so that -9223372036854775808 is a literal, as in cel-go.
                var magnitude = (BigInteger)Advance().Value!;
                if (magnitude > s_minMagnitude)
                {
                    throw new CelException("integer literal out of range", position);
                }

                return ParseMemberSuffix(new CelLiteral(position, (long)-magnitude));
            }

            return new CelUnary(position, "-", ParseUnary());
        }

        return ParseMemberSuffix(ParsePrimary());
    }

    private CelExpr ParseMemberSuffix(CelExpr operand)
    {
        while (true)
        {
            if (IsPunct("."))
            {
                int position = Advance().Position;
                string name = ExpectIdent();
                if (IsPunct("("))
                {
                    Advance();
                    IReadOnlyList<CelExpr> args = ParseList(")");
                    operand = MemberCall(position, operand, name, args);
                }
                else
                {
                    operand = new CelSelect(position, operand, name, TestOnly: false);
                }
            }
            else if (IsPunct("["))
            {
                int position = Advance().Position;
                CelExpr key = ParseExpr();
                Expect("]");
                operand = new CelIndex(position, operand, key);
            }
            else
            {
                return operand;
            }
        }
    }

    private static CelExpr MemberCall(int position, CelExpr target, string name, IReadOnlyList<CelExpr> args)
    {
        // Other macros (exists_one, map, filter) stay calls, which the checker refuses as unsupported.
        if (name is not ("all" or "exists"))
        {
            return new CelCall(position, target, name, args);
        }

        if (args.Count != 2)
        {
            throw new CelException($"macro '{name}' takes 2 arguments", position);
        }

        if (args[0] is not CelIdent variable)
        {
            throw new CelException($"argument to macro '{name}' must be a simple name", args[0].Position);
        }

        return new CelComprehension(position, name, target, variable.Name, args[1]);
    }

    private CelExpr ParsePrimary()
    {
        CelToken token = Advance();
        switch (token.Kind)
        {
            case CelTokenKind.Int:
                var magnitude = (BigInteger)token.Value!;
                if (magnitude > long.MaxValue)
                {
                    throw new CelException("integer literal out of range", token.Position);
                }

                return new CelLiteral(token.Position, (long)magnitude);
            case CelTokenKind.Double:
            case CelTokenKind.String:
                return new CelLiteral(token.Position, token.Value);
            case CelTokenKind.Ident:
                return ParseIdent(token);
            case CelTokenKind.Punct when token.Text == "(":
                CelExpr inner = ParseExpr();
                Expect(")");
                return inner;
            case CelTokenKind.Punct when token.Text == "[":
                return new CelListLiteral(token.Position, ParseList("]"));
            case CelTokenKind.End:
                throw new CelException("unexpected end of expression", token.Position);
            default:
                throw new CelException($"unexpected '{token.Text}'", token.Position);
        }
    }

    private CelExpr ParseIdent(CelToken token)
    {
        switch (token.Text)
        {
            case "true":
                return new CelLiteral(token.Position, true);
            case "false":
                return new CelLiteral(token.Position, false);
            case "null":
                throw new CelException("null literals are not supported by the test kit", token.Position);
        }

        if (s_reserved.Contains(token.Text))
        {
            throw new CelException($"reserved identifier '{token.Text}'", token.Position);
        }

        if (!IsPunct("("))
        {
            return new CelIdent(token.Position, token.Text);
        }

        Advance();
        IReadOnlyList<CelExpr> args = ParseList(")");
        if (token.Text != "has")
        {
            return new CelCall(token.Position, null, token.Text, args);
        }

        if (args is not [CelSelect select])
        {
            throw new CelException("invalid argument to has() macro", token.Position);
        }

        return select with { TestOnly = true };
    }

    private List<CelExpr> ParseList(string close)
    {
        var items = new List<CelExpr>();
        while (!IsPunct(close))
        {
            items.Add(ParseExpr());
            if (!IsPunct(","))
            {
                break;
            }

            Advance();
        }

        Expect(close);
        return items;
    }

    private bool IsPunct(string text) => Current.Kind == CelTokenKind.Punct && Current.Text == text;

    private CelToken Advance()
    {
        CelToken token = Current;
        if (token.Kind != CelTokenKind.End)
        {
            _next++;
        }

        return token;
    }

    private void Expect(string text)
    {
        if (!IsPunct(text))
        {
            throw new CelException(Current.Kind == CelTokenKind.End ? $"expected '{text}' before the end" : $"expected '{text}', found '{Current.Text}'", Current.Position);
        }

        Advance();
    }

    private string ExpectIdent()
    {
        if (Current.Kind != CelTokenKind.Ident || s_reserved.Contains(Current.Text))
        {
            throw new CelException($"expected a field name, found '{Current.Text}'", Current.Position);
        }

        return Advance().Text;
    }
}
