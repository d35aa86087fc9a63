using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using k8s.Models;

namespace DesLoc.Operator.Api.Resources;

/// <summary>
/// The trainer's <see cref="JobSpec"/> (model, data, training, algorithm, sync, checkpoints, fault tolerance), plus
/// what only Kubernetes needs: the pod template and the run policy. Property initializers are the defaults; the CRD
/// generator writes them into the schema.
/// </summary>
public sealed record LowCommJobSpec : JobSpec
{
    [Description("Suspend deletes the pods and keeps the status; resuming recreates them (they resume from their checkpoints).")]
    public bool Suspend { get; init; }

    [Description("Fail the job when it has run this long (counted from start or from the last resume).")]
    [Range(1, long.MaxValue)]
    public long? ActiveDeadlineSeconds { get; init; }

    [Description("Delete the job (and its pods) this long after it succeeded or failed.")]
    [Range(0, int.MaxValue)]
    public int? TtlSecondsAfterFinished { get; init; }

    [Description("Where replicas and their workers run: a topology key that keeps a replica's workers together and replicas apart, and per-replica node selectors and tolerations.")]
    public PlacementSpec? Placement { get; init; }

    [Description("The pod template of every replica. It must have a container named 'trainer', which receives the DESLOC_* environment; resource limits such as nvidia.com/gpu pass through.")]
    [Required]
    public V1PodTemplateSpec Template { get; init; } = new();
}
