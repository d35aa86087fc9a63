using DesLoc.Contract.Validation;
using DesLoc.Operator.Api.Resources;
using k8s.Models;

namespace DesLoc.Operator.Api.Validation;

/// <summary>
/// Refuses a job whose workers cannot fit in their memory (<see cref="MemoryEstimate"/>) before any pod trains: on a
/// cluster against the trainer container's memory limit, on one machine (`run`) against the machine's memory for all
/// R·W worker processes. A trainer container that asks for a GPU trains there, so only its host buffers count
/// (<see cref="MemoryEstimate.HostBytes"/>); the trainer checks again when it starts, knowing its device. Not a CRD
/// rule: the estimate is arithmetic CEL cannot reach, so the reconciler and `run` check it.
/// </summary>
public static class MemoryFit
{
    public const string LimitField = "spec.template.spec.containers[trainer].resources.limits.memory";

    /// <summary>Null when one worker fits in the trainer container's memory limit, or when there is no limit.</summary>
    public static SpecError? InContainer(LowCommJobSpec spec)
    {
        V1Container? trainer = spec.Template.Spec?.Containers?.FirstOrDefault(c => c.Name == "trainer");
        if (trainer?.Resources?.Limits is not { } limits || !limits.TryGetValue("memory", out ResourceQuantity? quantity))
        {
            return null;
        }

        long limit = quantity.ToInt64();
        MemoryEstimate worker = MemoryEstimate.For(spec, spec.Data.Vocab);
        return worker.HostBytes(AsksForGpu(spec)) <= limit
            ? null
            : new SpecError(LimitField,
                $"{quantity} is less than the {worker.Describe()} one worker needs; raise the limit, or shrink spec.model or spec.training.batchSize");
    }

    /// <summary>Null when every worker process of the job fits in <paramref name="availableBytes"/> on one machine.</summary>
    public static SpecError? OnMachine(LowCommJobSpec spec, long availableBytes)
    {
        MemoryEstimate worker = MemoryEstimate.For(spec, spec.Data.Vocab);
        int workers = spec.Replicas * spec.WorkersPerReplica;
        long needed = worker.HostBytes(AsksForGpu(spec)) * workers;
        return needed <= availableBytes
            ? null
            : new SpecError("spec.model",
                $"{workers} worker processes need {MemoryEstimate.Gib(needed)}, {worker.Describe()} each, and this machine has {MemoryEstimate.Gib(availableBytes)}; shrink spec.model, spec.training.batchSize or the number of replicas");
    }

    /// <summary>Whether the trainer container's limits ask for a GPU (nvidia.com/gpu, amd.com/gpu, ...).</summary>
    public static bool AsksForGpu(LowCommJobSpec spec) =>
        spec.Template.Spec?.Containers?.FirstOrDefault(c => c.Name == "trainer")?.Resources?.Limits?.Keys
            .Any(key => key.EndsWith("/gpu", StringComparison.Ordinal)) == true;
}
