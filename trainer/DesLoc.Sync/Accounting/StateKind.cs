namespace DesLoc.Sync.Accounting;

/// <summary>What an exchange carries; the label of the <c>desloc_bytes_sent_total{kind}</c> metric.</summary>
public enum StateKind
{
    /// <summary>Model parameters.</summary>
    Params,

    /// <summary>Gradients (DDP, and PALSGD's warm-up).</summary>
    Grads,

    /// <summary>Adam's first moment.</summary>
    M1,

    /// <summary>Adam's second moment.</summary>
    M2,

    /// <summary>DiLoCo's pseudo-gradient (anchor minus local parameters).</summary>
    PseudoGrad,

    /// <summary>Top-k DCT coefficients of the outer momentum (indices and values).</summary>
    Dct,
}

public static class StateKindNames
{
    /// <summary>The metric label of a kind, as DESIGN.md names it.</summary>
    public static string Label(this StateKind kind) => kind switch
    {
        StateKind.Params => "params",
        StateKind.Grads => "grads",
        StateKind.M1 => "m1",
        StateKind.M2 => "m2",
        StateKind.PseudoGrad => "pseudograd",
        StateKind.Dct => "dct",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}

/// <summary>Which links an exchange crossed (DESIGN.md §6): between replicas (sites), or inside one replica.</summary>
public enum Tier
{
    /// <summary>Between replicas: the slow, cross-site tier the algorithms exist to spare.</summary>
    Inter,

    /// <summary>Inside a replica: gradients every step, and the gather of each exchange's shards.</summary>
    Intra,
}

public static class TierNames
{
    /// <summary>The <c>tier</c> label of the byte metrics.</summary>
    public static string Label(this Tier tier) => tier switch
    {
        Tier.Inter => "inter",
        Tier.Intra => "intra",
        _ => throw new ArgumentOutOfRangeException(nameof(tier), tier, null),
    };
}
