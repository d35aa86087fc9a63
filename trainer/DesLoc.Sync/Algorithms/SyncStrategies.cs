using DesLoc.Contract.Collectives;

namespace DesLoc.Sync.Algorithms;

public static class SyncStrategies
{
    /// <summary>The strategy an (already validated) spec asks for, for one replica of the collective.</summary>
    public static ISyncStrategy Create(AlgorithmSpec spec, ICollective collective, int parameterCount, ulong seed) => spec.Type switch
    {
        AlgorithmType.DDP => new Ddp(collective, parameterCount),
        AlgorithmType.LocalAdam => new LocalAdam(collective, parameterCount, spec.LocalAdam, spec.DdpWarmupSteps),
        AlgorithmType.DESLOC => new DesLoc(collective, parameterCount, spec.Desloc, spec.DdpWarmupSteps),
        AlgorithmType.DiLoCo => new DiLoCo(collective, parameterCount, spec.Diloco, spec.DdpWarmupSteps),
        AlgorithmType.PALSGD => new Palsgd(collective, parameterCount, spec.Palsgd, seed, spec.DdpWarmupSteps),
        AlgorithmType.DCTMomentum => new DctMomentum(collective, parameterCount, spec.Dct, spec.DdpWarmupSteps),
        _ => throw new ArgumentOutOfRangeException(nameof(spec), spec.Type, "Unknown algorithm type."),
    };
}
