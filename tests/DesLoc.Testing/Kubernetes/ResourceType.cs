using System.Text.Json.Nodes;

namespace DesLoc.Testing.Kubernetes;

/// <summary>
/// One served resource at one group version: what discovery lists and what the store needs to know
/// (scope, status subresource) plus, for custom resources, the version's schema and printer columns.
/// </summary>
internal sealed record ResourceType(
    string Group,
    string Version,
    string Plural,
    string Singular,
    string Kind,
    bool Namespaced,
    bool HasStatus,
    IReadOnlyList<string> ShortNames)
{
    /// <summary>The CRD version's <c>openAPIV3Schema</c>; null for built-ins (never validated).</summary>
    public JsonNode? Schema { get; init; }

    /// <summary>The CRD version's <c>additionalPrinterColumns</c>; null for built-ins.</summary>
    public JsonArray? PrinterColumns { get; init; }

    public bool IsCustom { get; init; }

    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    public string ListKind => Kind + "List";

    /// <summary><c>pods</c> or <c>widgets.example.dev</c>, as error messages name the resource.</summary>
    public string QualifiedResource => Group.Length == 0 ? Plural : $"{Plural}.{Group}";

    /// <summary>Objects are stored per group and plural, so every served version of a CRD sees the same objects.</summary>
    public StoreKey StoreKey => new(Group, Plural);
}

/// <summary>Which bucket of the store an object lives in.</summary>
internal readonly record struct StoreKey(string Group, string Plural);
