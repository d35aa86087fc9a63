using System.Text.Json;
using System.Text.Json.Serialization;
using DesLoc.Operator.Api.Resources;

namespace DesLoc.Operator.Reconciliation;

/// <summary>
/// The part of a LowCommJob spec the trainer reads (<c>DESLOC_CONFIG</c>): the trainer refuses fields it does not
/// know, so the operator's own fields (template, restarts, adaptive sync, run policy) are left out here. A contract
/// test loads this JSON with the trainer's own loader.
/// </summary>
public sealed record TrainerConfig(
    int Replicas,
    int? MinReplicas,
    ModelSpec Model,
    DataSpec Data,
    TrainingSpec Training,
    AlgorithmSpec Algorithm,
    TrainerConfig.CheckpointBlock Checkpoint,
    TrainerConfig.FaultToleranceBlock FaultTolerance,
    TransportSpec Transport)
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };

    public sealed record CheckpointBlock(int EverySteps, string Path, int Keep);

    public sealed record FaultToleranceBlock(double RoundTimeoutSeconds, double JoinTimeoutSeconds, double ArrivalTimeoutSeconds);

    public static TrainerConfig From(LowCommJobSpec spec, string checkpointPath) => new(
        spec.Replicas,
        spec.MinReplicas,
        spec.Model,
        spec.Data,
        spec.Training,
        spec.Algorithm,
        new CheckpointBlock(spec.Checkpoint.EverySteps, checkpointPath, spec.Checkpoint.Keep),
        new FaultToleranceBlock(spec.FaultTolerance.RoundTimeoutSeconds, spec.FaultTolerance.JoinTimeoutSeconds, spec.FaultTolerance.ArrivalTimeoutSeconds),
        spec.Transport);

    public string ToJson() => JsonSerializer.Serialize(this, s_json);
}
