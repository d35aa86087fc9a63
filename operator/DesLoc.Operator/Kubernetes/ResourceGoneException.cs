namespace DesLoc.Operator.Kubernetes;

/// <summary>The server has compacted the history past the requested resourceVersion (410 Gone): list again.</summary>
public sealed class ResourceGoneException : Exception
{
    public ResourceGoneException()
        : base("The resourceVersion is too old (410 Gone).")
    {
    }

    public ResourceGoneException(string message)
        : base(message)
    {
    }

    public ResourceGoneException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
