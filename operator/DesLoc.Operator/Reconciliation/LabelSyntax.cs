using System.Text.RegularExpressions;

namespace DesLoc.Operator.Reconciliation;

/// <summary>
/// Kubernetes' label syntax, as the API server checks it (apimachinery's <c>IsQualifiedName</c> for keys and
/// <c>IsValidLabelValue</c> for values), so that labels given on the command line are refused at start rather than by
/// the API server on every object that carries them. A key is an optional prefix, a DNS-1123 subdomain of at most 253
/// characters, and '/', then a name of at most 63 alphanumerics, '-', '_' or '.' that starts and ends alphanumeric; a
/// value is empty or such a name.
/// </summary>
public static partial class LabelSyntax
{
    private const int NameMaxLength = 63;
    private const int PrefixMaxLength = 253;
    private const string NameRule = "alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character";

    /// <summary>Why <paramref name="key"/>=<paramref name="value"/> is not a Kubernetes label, naming the key or the value; null when it is one.</summary>
    public static string? Problem(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        string[] parts = key.Split('/');
        string name = parts[^1];
        if (parts.Length > 2)
        {
            return $"label key '{key}' has more than one '/' (a key is [prefix/]name)";
        }

        if (parts.Length == 2)
        {
            string prefix = parts[0];
            if (prefix.Length == 0)
            {
                return $"label key '{key}' has an empty prefix before '/'";
            }

            if (prefix.Length > PrefixMaxLength)
            {
                return $"label key '{key}' has a prefix longer than {PrefixMaxLength} characters";
            }

            if (!Subdomain().IsMatch(prefix))
            {
                return $"label key '{key}' has a prefix that is not a DNS subdomain (lower-case alphanumerics, '-' and '.', starting and ending alphanumeric)";
            }
        }

        if (name.Length == 0)
        {
            return $"label key '{key}' has an empty name";
        }

        if (name.Length > NameMaxLength)
        {
            return $"label key '{key}' has a name longer than {NameMaxLength} characters";
        }

        if (!Name().IsMatch(name))
        {
            return $"label key '{key}' has a name that is not {NameRule}";
        }

        if (value.Length > NameMaxLength)
        {
            return $"label value '{value}' (of '{key}') is longer than {NameMaxLength} characters";
        }

        if (value.Length > 0 && !Name().IsMatch(value))
        {
            return $"label value '{value}' (of '{key}') is neither empty nor {NameRule}";
        }

        return null;
    }

    [GeneratedRegex(@"\A([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]\z", RegexOptions.CultureInvariant)]
    private static partial Regex Name();

    [GeneratedRegex(@"\A[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\z", RegexOptions.CultureInvariant)]
    private static partial Regex Subdomain();
}
