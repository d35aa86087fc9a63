namespace DesLoc.Operator.Reconciliation;

/// <summary>
/// The operator's pods as a NetworkPolicy names them: its namespace (the pod's own, <c>POD_NAMESPACE</c>) and the
/// labels that select its pods (the chart's selector labels, passed as <c>--operator-pod-labels</c>). No labels
/// means every pod of that namespace.
/// </summary>
public sealed record OperatorPeer(string Namespace, IReadOnlyDictionary<string, string> PodLabels)
{
    /// <summary>Set by Kubernetes on every namespace (1.21+): selects a namespace by name.</summary>
    public const string NamespaceNameLabel = "kubernetes.io/metadata.name";

    /// <summary>Labels written <c>key=value,key=value</c>; null when a pair is malformed or not a Kubernetes label.</summary>
    public static IReadOnlyDictionary<string, string>? ParseLabels(string? text) => ParseLabels(text, out _);

    /// <summary>
    /// Labels written <c>key=value,key=value</c>, each key and value checked as the API server checks them
    /// (<see cref="LabelSyntax"/>); null when a pair is malformed or not a label, and <paramref name="problem"/> says
    /// why, to follow a flag's name ("--flag takes ...").
    /// </summary>
    public static IReadOnlyDictionary<string, string>? ParseLabels(string? text, out string? problem)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string pair in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                problem = $"takes labels as key=value pairs separated by commas, not '{text}'";
                return null;
            }

            (string key, string value) = (pair[..equals], pair[(equals + 1)..]);
            if (LabelSyntax.Problem(key, value) is { } invalid)
            {
                problem = $"takes Kubernetes labels, and {invalid}";
                return null;
            }

            labels[key] = value;
        }

        problem = null;
        return labels;
    }
}
