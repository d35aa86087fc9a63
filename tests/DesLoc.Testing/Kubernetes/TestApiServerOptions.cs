using System.Text.Json.Nodes;

namespace DesLoc.Testing.Kubernetes;

/// <summary>How a <see cref="TestApiServer"/> validates custom objects and paces watches.</summary>
public sealed class TestApiServerOptions
{
    /// <summary>
    /// Called on every create, update and patch (status included) of a custom object with the CRD version's
    /// <c>openAPIV3Schema</c>, the new object and, on updates, the stored one. Any violation refuses the write with
    /// 422 Invalid, one cause per violation. Null: custom objects are not validated.
    /// </summary>
    public Func<JsonNode, JsonNode, JsonNode?, IReadOnlyList<FieldViolation>>? ValidateCustomObject { get; init; }

    /// <summary>Called with the schema and the new object (which it may change) before validation on create and update.</summary>
    public Action<JsonNode, JsonNode>? ApplyDefaults { get; init; }

    /// <summary>How often a watch that asked for bookmarks (<c>allowWatchBookmarks=true</c>) gets one.</summary>
    public TimeSpan BookmarkInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How many past events are kept for watches that resume from a resourceVersion; older ones get 410 Gone.</summary>
    public int WatchHistory { get; init; } = 1000;
}
