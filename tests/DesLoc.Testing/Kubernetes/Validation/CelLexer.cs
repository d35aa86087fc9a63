using System.Globalization;
using System.Numerics;

namespace DesLoc.Testing.Kubernetes.Validation;

internal enum CelTokenKind
{
    Int,
    Double,
    String,
    Ident,
    Punct,
    End,
}

/// <summary>One token; <see cref="Value"/> holds an int literal's magnitude (BigInteger), a double or a string.</summary>
internal sealed record CelToken(CelTokenKind Kind, string Text, int Position, object? Value = null);

/// <summary>
/// Splits a CEL expression into tokens: decimal int and double literals (no exponent, hex or unsigned), single- or
/// double-quoted strings without escapes, identifiers and the operators the rules use. Anything else is a
/// <see cref="CelException"/> at its position.
/// </summary>
internal static class CelLexer
{
    private static readonly string[] s_punctuation =
        ["<=", ">=", "==", "!=", "&&", "||", "(", ")", "[", "]", ".", ",", ":", "?", "!", "-", "+", "*", "/", "%", "<", ">"];

    public static IReadOnlyList<CelToken> Tokenize(string text)
    {
        var tokens = new List<CelToken>();
        int i = 0;
        while (true)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            if (i >= text.Length)
            {
                tokens.Add(new CelToken(CelTokenKind.End, "", i));
                return tokens;
            }

            char c = text[i];
            if (char.IsAsciiDigit(c))
            {
                tokens.Add(ReadNumber(text, ref i));
            }
            else if (c is '\'' or '"')
            {
                tokens.Add(ReadString(text, ref i));
            }
            else if (char.IsAsciiLetter(c) || c == '_')
            {
                int start = i;
                while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] == '_'))
                {
                    i++;
                }

                if (i < text.Length && text[i] is '\'' or '"')
                {
                    throw new CelException("raw and bytes strings are not supported by the test kit", start);
                }

                tokens.Add(new CelToken(CelTokenKind.Ident, text[start..i], start));
            }
            else if (c == '{')
            {
                throw new CelException("map literals are not supported by the test kit", i);
            }
            else
            {
                string? punct = s_punctuation.FirstOrDefault(p => string.CompareOrdinal(text, i, p, 0, p.Length) == 0);
                if (punct is null)
                {
                    throw new CelException($"unexpected character '{c}'", i);
                }

                tokens.Add(new CelToken(CelTokenKind.Punct, punct, i));
                i += punct.Length;
            }
        }
    }

    private static CelToken ReadNumber(string text, ref int i)
    {
        int start = i;
        while (i < text.Length && char.IsAsciiDigit(text[i]))
        {
            i++;
        }

        if (i + 1 < text.Length && text[i] == '.' && char.IsAsciiDigit(text[i + 1]))
        {
            i++;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }

            RefuseSuffix(text, i);
            string literal = text[start..i];
            return new CelToken(CelTokenKind.Double, literal, start, double.Parse(literal, NumberStyles.Float, CultureInfo.InvariantCulture));
        }

        RefuseSuffix(text, i);
        return new CelToken(CelTokenKind.Int, text[start..i], start, BigInteger.Parse(text[start..i], CultureInfo.InvariantCulture));
    }

    private static void RefuseSuffix(string text, int i)
    {
        if (i < text.Length && (char.IsAsciiLetter(text[i]) || text[i] == '_'))
        {
            throw new CelException("hex, unsigned and exponent literals are not supported by the test kit", i);
        }
    }

    private static CelToken ReadString(string text, ref int i)
    {
        int start = i;
        char quote = text[i++];
        while (i < text.Length && text[i] != quote)
        {
            if (text[i] is '\\' or '\n' or '\r')
            {
                throw new CelException(text[i] == '\\' ? "escape sequences are not supported by the test kit" : "newline in string literal", i);
            }

            i++;
        }

        if (i >= text.Length)
        {
            throw new CelException("unterminated string literal", start);
        }

        i++;
        return new CelToken(CelTokenKind.String, text[start..i], start, text[(start + 1)..(i - 1)]);
    }
}
