using DesLoc.Contract.Collectives;
using DesLoc.Sync.Math;

namespace DesLoc.Sync.Algorithms;

public static class SyncStrategies
{
    /// <summary>
    /// The strategy an (already validated) spec asks for, for one replica of the collective whose parameters are tensors of
    /// <paramref name="shapes"/>, in the order of its flat vectors (DCT momentum cuts its blocks per tensor; the others need only the count).
    /// <paramref name="overlapSteps"/> is <c>sync.overlapSteps</c> (null to block on every sync), for the methods that overlap.
    /// </summary>
    public static ISyncStrategy Create(AlgorithmSpec spec, ICollective collective, IReadOnlyList<long[]> shapes, ulong seed, int? overlapSteps = null)
    {
        int parameterCount = checked((int)TensorBlockLayout.ElementCount(shapes));
        if (overlapSteps is not null && spec.OverlapBound is null)
        {
            throw new ArgumentException($"{spec.Type} cannot overlap its syncs; sync.overlapSteps is for DESLOC, DiLoCo, PALSGD and DCTMomentum.", nameof(overlapSteps));
        }

        return spec.Type switch
        {
            AlgorithmType.DDP => new Ddp(collective, parameterCount),
            AlgorithmType.LocalAdam => new LocalAdam(collective, parameterCount, spec.LocalAdam, spec.DdpWarmupSteps),
            AlgorithmType.DESLOC => new DesLoc(collective, parameterCount, spec.Desloc, spec.DdpWarmupSteps) { OverlapSteps = overlapSteps },
            AlgorithmType.DiLoCo => new DiLoCo(collective, parameterCount, spec.Diloco, spec.DdpWarmupSteps) { OverlapSteps = overlapSteps },
            AlgorithmType.PALSGD => new Palsgd(collective, parameterCount, spec.Palsgd, seed, spec.DdpWarmupSteps) { OverlapSteps = overlapSteps },
            AlgorithmType.DCTMomentum => new DctMomentum(collective, shapes, spec.Dct, spec.DdpWarmupSteps) { OverlapSteps = overlapSteps },
            _ => throw new ArgumentOutOfRangeException(nameof(spec), spec.Type, "Unknown algorithm type."),
        };
    }

    /// <summary>The same for a flat vector of <paramref name="parameterCount"/> values, taken as one 1-D tensor.</summary>
    public static ISyncStrategy Create(AlgorithmSpec spec, ICollective collective, int parameterCount, ulong seed, int? overlapSteps = null) =>
        Create(spec, collective, [[parameterCount]], seed, overlapSteps);
}
