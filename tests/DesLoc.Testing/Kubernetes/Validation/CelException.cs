namespace DesLoc.Testing.Kubernetes.Validation;

/// <summary>
/// A CEL expression this evaluator refuses: a syntax error, or syntax and functions outside the supported subset.
/// Thrown at compile time so that an unsupported rule fails the test loudly instead of passing silently.
/// </summary>
public class CelException : Exception
{
    public CelException(string reason, int position)
        : base($"{reason} (at position {position})")
    {
        Reason = reason;
        Position = position;
    }

    /// <summary>For subclasses whose message adds detail that <see cref="Reason"/> leaves out.</summary>
    protected CelException(string reason, int position, string message)
        : base(message)
    {
        Reason = reason;
        Position = position;
    }

    public CelException()
        : this("CEL error", 0)
    {
    }

    public CelException(string message)
        : this(message, 0)
    {
    }

    public CelException(string message, Exception innerException)
        : base(message, innerException)
    {
        Reason = message;
    }

    /// <summary>The error text without the position, as cel-go words it where it has an equivalent.</summary>
    public string Reason { get; } = "";

    /// <summary>Zero-based character offset in the expression.</summary>
    public int Position { get; }
}
