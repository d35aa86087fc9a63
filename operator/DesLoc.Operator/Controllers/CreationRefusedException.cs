namespace DesLoc.Operator.Controllers;

/// <summary>
/// The API server refused to create a child (a 4xx other than a conflict: Pod Security, quota, an admission webhook,
/// an invalid object). Retrying at once cannot help, so the reconcile records why and backs off.
/// </summary>
public sealed class CreationRefusedException(string name, string message, Exception? inner = null)
    : Exception($"The API server refused to create {name}: {message}", inner)
{
    public string Name { get; } = name;

    public string Refusal { get; } = message;
}
