using DesLoc.Contract.Collectives;

namespace DesLoc.Sync.Algorithms;

public static class SyncStrategies
{
    /// <summary>The strategy an (already validated) spec asks for, for one replica of the collective.</summary>
    public static ISyncStrategy Create(AlgorithmSpec spec, ICollective collective, int parameterCount, ulong seed) => spec.Type switch
    {
        AlgorithmType.DDP => new Ddp(collective, parameterCount),
        AlgorithmType.LocalAdam => new LocalAdam(collective, parameterCount, spec.LocalAdam),
        AlgorithmType.DESLOC => new DesLoc(collective, parameterCount, spec.Desloc),
        AlgorithmType.DiLoCo => new DiLoCo(collective, parameterCount, spec.Diloco),
        AlgorithmType.PALSGD => new Palsgd(collective, parameterCount, spec.Palsgd, seed),
        AlgorithmType.DCTMomentum => new DctMomentum(collective, parameterCount, spec.Dct),
        _ => throw new ArgumentOutOfRangeException(nameof(spec), spec.Type, "Unknown algorithm type."),
    };
}
