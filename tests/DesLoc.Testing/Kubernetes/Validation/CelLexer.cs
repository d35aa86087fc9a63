using System.Globalization;
using System.Numerics;
using System.Text;

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
/// Splits a CEL expression into tokens, following the CEL spec's lexical grammar less comments and triple-quoted
/// strings (the rules use neither).
/// </summary>
internal static class CelLexer
{
    private static readonly string[] s_punctuation =
        ["<=", ">=", "==", "!=", "&&", "||", "(", ")", "[", "]", "{", "}", ".", ",", ":", "?", "!", "-", "+", "*", "/", "%", "<", ">"];

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
                tokens.Add(ReadString(text, ref i, raw: false, i));
            }
            else if (c is 'r' or 'R' && i + 1 < text.Length && text[i + 1] is '\'' or '"')
            {
                int start = i++;
                tokens.Add(ReadString(text, ref i, raw: true, start));
            }
            else if (c is 'b' or 'B' && i + 1 < text.Length && text[i + 1] is '\'' or '"' or 'r' or 'R')
            {
                throw new CelException("bytes literals are not supported", i);
            }
            else if (char.IsAsciiLetter(c) || c == '_')
            {
                int start = i;
                while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] == '_'))
                {
                    i++;
                }

                tokens.Add(new CelToken(CelTokenKind.Ident, text[start..i], start));
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
        if (text[i] == '0' && i + 1 < text.Length && text[i + 1] is 'x' or 'X')
        {
            i += 2;
            int digits = i;
            while (i < text.Length && char.IsAsciiHexDigit(text[i]))
            {
                i++;
            }

            if (i == digits)
            {
                throw new CelException("malformed hex literal", start);
            }

            RefuseUnsigned(text, i);
            var hex = BigInteger.Parse("0" + text[digits..i], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            return new CelToken(CelTokenKind.Int, text[start..i], start, hex);
        }

        while (i < text.Length && char.IsAsciiDigit(text[i]))
        {
            i++;
        }

        bool isDouble = false;
        if (i + 1 < text.Length && text[i] == '.' && char.IsAsciiDigit(text[i + 1]))
        {
            isDouble = true;
            i++;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }
        }

        if (i < text.Length && text[i] is 'e' or 'E')
        {
            int e = i + 1;
            if (e < text.Length && text[e] is '+' or '-')
            {
                e++;
            }

            if (e < text.Length && char.IsAsciiDigit(text[e]))
            {
                isDouble = true;
                i = e;
                while (i < text.Length && char.IsAsciiDigit(text[i]))
                {
                    i++;
                }
            }
        }

        string literal = text[start..i];
        if (isDouble)
        {
            return new CelToken(CelTokenKind.Double, literal, start, double.Parse(literal, NumberStyles.Float, CultureInfo.InvariantCulture));
        }

        RefuseUnsigned(text, i);
        return new CelToken(CelTokenKind.Int, literal, start, BigInteger.Parse(literal, CultureInfo.InvariantCulture));
    }

    private static void RefuseUnsigned(string text, int i)
    {
        if (i < text.Length && text[i] is 'u' or 'U')
        {
            throw new CelException("uint literals are not supported", i);
        }
    }

    private static CelToken ReadString(string text, ref int i, bool raw, int start)
    {
        char quote = text[i++];
        var value = new StringBuilder();
        while (true)
        {
            if (i >= text.Length)
            {
                throw new CelException("unterminated string literal", start);
            }

            char c = text[i];
            if (c == quote)
            {
                i++;
                return new CelToken(CelTokenKind.String, text[start..i], start, value.ToString());
            }

            if (c is '\n' or '\r')
            {
                throw new CelException("newline in string literal", i);
            }

            if (c == '\\' && !raw)
            {
                value.Append(ReadEscape(text, ref i));
            }
            else
            {
                value.Append(c);
                i++;
            }
        }
    }

    private static string ReadEscape(string text, ref int i)
    {
        int start = i;
        if (i + 1 >= text.Length)
        {
            throw new CelException("unterminated escape sequence", start);
        }

        char e = text[i + 1];
        i += 2;
        switch (e)
        {
            case 'a': return "\a";
            case 'b': return "\b";
            case 'f': return "\f";
            case 'n': return "\n";
            case 'r': return "\r";
            case 't': return "\t";
            case 'v': return "\v";
            case '\\': return "\\";
            case '\'': return "'";
            case '"': return "\"";
            case '`': return "`";
            case '?': return "?";
            case 'x' or 'X': return CodePoint(text, ref i, 2, 16, start);
            case 'u': return CodePoint(text, ref i, 4, 16, start);
            case 'U': return CodePoint(text, ref i, 8, 16, start);
            case >= '0' and <= '3':
                i--;
                return CodePoint(text, ref i, 3, 8, start);
            default:
                throw new CelException($"invalid escape sequence '\\{e}'", start);
        }
    }

    private static string CodePoint(string text, ref int i, int digits, int radix, int start)
    {
        if (i + digits > text.Length)
        {
            throw new CelException("truncated escape sequence", start);
        }

        long value = 0;
        for (int k = 0; k < digits; k++)
        {
            int d = radix == 16 && char.IsAsciiHexDigit(text[i + k]) ? Convert.ToInt32(text[i + k].ToString(), 16)
                : radix == 8 && text[i + k] is >= '0' and <= '7' ? text[i + k] - '0'
                : throw new CelException("malformed escape sequence", start);
            value = (value * radix) + d;
        }

        i += digits;
        if (value > 0x10FFFF || value is >= 0xD800 and <= 0xDFFF)
        {
            throw new CelException("invalid code point in escape sequence", start);
        }

        return char.ConvertFromUtf32((int)value);
    }
}
