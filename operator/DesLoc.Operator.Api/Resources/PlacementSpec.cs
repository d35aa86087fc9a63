using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using k8s.Models;

namespace DesLoc.Operator.Api.Resources;

/// <summary>
/// Where replicas run (DESIGN.md §6): the workers of one replica share a topology domain (its fast links), and no two
/// replicas share one; each replica may also get node selectors and tolerations of its own (a site's GPU pool).
/// </summary>
[Description("Where replicas run: the workers of a replica share a topology domain, replicas never share one, and each replica may select nodes of its own.")]
public sealed record PlacementSpec
{
    [Description("A node label (for example topology.kubernetes.io/zone): the workers of one replica are placed on nodes with one value of it (required pod affinity), and pods of different replicas never share a value (required pod anti-affinity).")]
    [MinLength(1)]
    public string? ReplicaTopologyKey { get; init; }

    [Description("Entry i applies to replica i: its nodeSelector and tolerations are merged into the pods of that replica (over the template's, the entry winning on the same key). At most spec.replicas entries.")]
    public IReadOnlyList<ReplicaPlacementSpec> Replicas { get; init; } = [];
}

/// <summary>One replica's node selector and tolerations.</summary>
public sealed record ReplicaPlacementSpec
{
    [Description("Node labels the replica's pods require, merged over the template's nodeSelector.")]
    public IReadOnlyDictionary<string, string> NodeSelector { get; init; } = new Dictionary<string, string>();

    [Description("Tolerations added to the replica's pods (one with the same key and effect as the template's replaces it).")]
    public IReadOnlyList<V1Toleration> Tolerations { get; init; } = [];
}
