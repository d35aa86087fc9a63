namespace DesLoc.Testing.Kubernetes;

/// <summary>
/// One reason the API server refuses an object, as a real kube-apiserver reports it in a 422 Status cause:
/// <paramref name="Field"/> is the dotted path (<c>spec.algorithm.desloc.ku</c>), <paramref name="Message"/> the text
/// after the path (<c>Invalid value: 0: must be at least 1</c>).
/// </summary>
public sealed record FieldViolation(string Field, string Message)
{
    /// <summary>The line kubectl prints for this cause.</summary>
    public override string ToString() => $"{Field}: {Message}";
}
