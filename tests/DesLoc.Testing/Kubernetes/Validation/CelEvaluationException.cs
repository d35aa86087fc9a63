namespace DesLoc.Testing.Kubernetes.Validation;

/// <summary>
/// A runtime error of a compiled expression (no such key, division by zero, integer overflow, no such overload).
/// The apiserver reports these as an invalid value, so the schema validator turns them into violations.
/// </summary>
public sealed class CelEvaluationException : CelException
{
    public CelEvaluationException(string reason, int position, string? detail = null)
        : base(reason, position, detail is null ? $"{reason} (at position {position})" : $"{reason}: {detail} (at position {position})")
    {
    }

    public CelEvaluationException()
    {
    }

    public CelEvaluationException(string message)
        : base(message)
    {
    }

    public CelEvaluationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
