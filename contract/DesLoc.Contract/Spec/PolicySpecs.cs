using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;

namespace DesLoc.Contract.Spec;

[Description("How the operator tunes the sync periods.")]
public sealed record SyncSpec
{
    /// <summary>Float32 values on the wire.</summary>
    public const string NoCompression = "none";

    /// <summary>bfloat16 values on the wire (rounded to nearest even), summed in float32: half the bytes.</summary>
    public const string Bf16Compression = "bf16";

    /// <summary>
    /// DiLoCo's and PALSGD's pseudo-gradients as int8 in blocks with a float32 scale each, their rounding fed back by the
    /// sender; parameters, moments and gradients as bf16, since they have no residual to feed back into.
    /// </summary>
    public const string Int8Compression = "int8";

    [Description("How parameters, moments and pseudo-gradients travel between replicas: none (float32), bf16 (rounded to nearest even, summed in float32, half the bytes), or int8 (pseudo-gradients of DiLoCo and PALSGD as int8 in blocks of 256 with a float32 scale each, about a quarter of the bytes, every rounding kept by its sender and added to its next pseudo-gradient; everything else as bf16). Every replica ends with the same values. Defaults to bf16 when training.precision is bf16, else none. DCT momentum's coefficients are sent as they are.")]
    [AllowedValues(NoCompression, Bf16Compression, Int8Compression)]
    public string? Compression { get; init; }

    [Description("Overlap (DESLOC, DiLoCo, PALSGD, DCTMomentum): the exchange of a sync step t runs in the background while training goes on, and is applied after step t + overlapSteps as a correction that keeps the steps trained meanwhile: each synced state s becomes synced + (s now - s at t), synced being what a blocking sync writes at t (the mean; for the outer methods the anchor after the outer step on the mean pseudo-gradient of t). 0 takes the same path with no delay (the blocking result). Leave it out to wait for every sync where it starts. Must be below the algorithm's period (kx for DESLOC) and, with adaptive sync, below adaptive.minPeriod; needs workersPerReplica 1. A sync that fails while in flight is redone among the survivors from step t; a stop waits for it.")]
    [Range(0, 1000000)]
    public int? OverlapSteps { get; init; }

    public AdaptiveSyncSpec Adaptive { get; init; } = new();
}

[Description("Adaptive sync: when the measured fraction of time spent communicating leaves the target by more than the hysteresis, the periods change (bytes per step at most x2 per change) and every replica switches at the same step.")]
public sealed record AdaptiveSyncSpec
{
    /// <summary>DES-LOC's periods change in the order its convergence bound prices them: kv, then ku, then kx (shortened the other way).</summary>
    public const string Theory = "theory";

    /// <summary>Every period is scaled by the same factor (DES-LOC's ratios kept).</summary>
    public const string Uniform = "uniform";

    public bool Enabled { get; init; }

    [Description("How DES-LOC's periods change. theory: when the link slows, kv is stretched first, then ku, then kx (kx is what the convergence bound is most sensitive to), and shortened in the opposite order; ku and kv stay multiples of kx. uniform: kx, ku and kv are scaled alike. Other algorithms have one period, scaled either way.")]
    [AllowedValues(Theory, Uniform)]
    public string Policy { get; init; } = Theory;

    [Description("Wanted fraction of wall time spent in sync rounds.")]
    [Range(0.0, 1.0, MinimumIsExclusive = true, MaximumIsExclusive = true)]
    public double TargetCommFraction { get; init; } = 0.1;

    [Description("Relative band around the target inside which nothing changes (0.25 = +-25%).")]
    [Range(0.0, 10.0)]
    public double Hysteresis { get; init; } = 0.25;

    [Description("Smallest period (steps) the controller may set; for DES-LOC it bounds kx.")]
    [Range(1, 1000000)]
    public int MinPeriod { get; init; } = 4;

    [Description("Largest period (steps) the controller may set; for DES-LOC it bounds kx, and with policy theory also how far ku and kv are stretched (or 3*kx and 6*kx when longer).")]
    [Range(1, 1000000)]
    public int MaxPeriod { get; init; } = 4096;

    [Description("Seconds between two looks at the trainers' status.")]
    [Range(1, 3600)]
    public int IntervalSeconds { get; init; } = 15;

    [Description("A change applies this many (new) periods after the step it is decided at, so every replica has it in time.")]
    [Range(1, 100)]
    public int SwitchAfterPeriods { get; init; } = 2;
}

[Description("Replacing failed replicas (the operator) and the timeouts of sync rounds (the trainer).")]
public sealed record FaultToleranceSpec
{
    [Description("Restarts (counted over all replicas) after which the job fails. Evictions are not counted.")]
    [Range(0, 10000)]
    public int MaxRestarts { get; init; } = 10;

    public BackoffSpec Backoff { get; init; } = new();

    [Description("What to do when a trainer exits with a given code; first match wins. Unmatched failures are restarted, except exit code 2 (a configuration error), which fails the job.")]
    public IReadOnlyList<ExitCodeRule> Rules { get; init; } = [];

    [Description("A collective operation that makes no progress for this long fails, and the round is redone among the survivors.")]
    [Range(0.0, 86400.0, MinimumIsExclusive = true)]
    public double RoundTimeoutSeconds { get; init; } = 30;

    [Description("How long the first sync round waits for every replica to start.")]
    [Range(0.0, 86400.0, MinimumIsExclusive = true)]
    public double JoinTimeoutSeconds { get; init; } = 120;

    [Description("How long a round waits for a live replica that has not reached the sync point.")]
    [Range(0.0, 86400.0, MinimumIsExclusive = true)]
    public double ArrivalTimeoutSeconds { get; init; } = 600;
}

[Description("Exponential delay before a failed replica is recreated: initial, doubled per restart of that replica, capped.")]
public sealed record BackoffSpec
{
    [Range(0, 86400)]
    public int InitialSeconds { get; init; } = 5;

    [Range(0, 86400)]
    public int MaxSeconds { get; init; } = 300;
}

public sealed record ExitCodeRule
{
    [Required]
    [MinLength(1)]
    public IReadOnlyList<int> ExitCodes { get; init; } = [];

    public FailureAction Action { get; init; } = FailureAction.Restart;
}

[JsonConverter(typeof(JsonStringEnumConverter<FailureAction>))]
public enum FailureAction
{
    /// <summary>Recreate the failed replica after the backoff; counts towards maxRestarts.</summary>
    Restart,

    /// <summary>Fail the whole job at once.</summary>
    FailJob,
}
