using System.Globalization;
using System.Text;

namespace DesLoc.Testing.Kubernetes.Validation;

/// <summary>Go's <c>%v</c>/<c>%g</c> for float64 and <c>%q</c> for strings: the apiserver's messages and cel-go's string() use them.</summary>
internal static class GoFormat
{
    /// <summary><c>strconv.FormatFloat(d, 'g', -1, 64)</c>: shortest digits, exponent form below 1e-4 or from 1e+06.</summary>
    public static string Float(double value)
    {
        if (double.IsNaN(value))
        {
            return "NaN";
        }

        if (double.IsInfinity(value))
        {
            return value > 0 ? "+Inf" : "-Inf";
        }

        string sign = value < 0 || (value == 0 && double.IsNegative(value)) ? "-" : "";
        if (value == 0)
        {
            return sign + "0";
        }

        // "R" gives the shortest round-trip digits; re-lay them out as Go does.
        string r = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        int exponent = 0;
        int e = r.IndexOf('E', StringComparison.Ordinal);
        if (e >= 0)
        {
            exponent = int.Parse(r[(e + 1)..], CultureInfo.InvariantCulture);
            r = r[..e];
        }

        int dot = r.IndexOf('.', StringComparison.Ordinal);
        string whole = dot < 0 ? r : r[..dot];
        string digits = whole + (dot < 0 ? "" : r[(dot + 1)..]);
        int decimalPoint = whole.Length + exponent;
        int lead = digits.Length - digits.TrimStart('0').Length;
        digits = digits[lead..].TrimEnd('0');
        decimalPoint -= lead;

        int exp = decimalPoint - 1;
        if (exp < -4 || exp >= 6)
        {
            var text = new StringBuilder(sign).Append(digits[0]);
            if (digits.Length > 1)
            {
                text.Append('.').Append(digits, 1, digits.Length - 1);
            }

            return text.Append(exp < 0 ? "e-" : "e+").Append(Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture)).ToString();
        }

        if (decimalPoint <= 0)
        {
            return sign + "0." + new string('0', -decimalPoint) + digits;
        }

        if (digits.Length <= decimalPoint)
        {
            return sign + digits + new string('0', decimalPoint - digits.Length);
        }

        return sign + digits[..decimalPoint] + "." + digits[decimalPoint..];
    }

    /// <summary><c>strconv.Quote</c> for the printable text the apiserver's messages carry.</summary>
    public static string Quote(string value)
    {
        var text = new StringBuilder("\"");
        foreach (char c in value)
        {
            text.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\a' => "\\a",
                '\b' => "\\b",
                '\f' => "\\f",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                '\v' => "\\v",
                < ' ' or '\x7f' => $"\\x{(int)c:x2}",
                _ => c.ToString(),
            });
        }

        return text.Append('"').ToString();
    }
}
