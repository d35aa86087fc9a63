using DesLoc.Sync.Algorithms;

namespace DesLoc.Trainer.Configuration;

/// <summary>
/// The trainer's view of a LowCommJob spec (the JSON the operator writes to <c>DESLOC_CONFIG</c>; command-line
/// flags use the same field paths, e.g. <c>--algorithm.desloc.kx 32</c>). Defaults give a tiny CPU job.
/// </summary>
public sealed record JobSpec
{
    public int Replicas { get; init; } = 4;

    /// <summary>Quorum floor: rounds wait while fewer replicas are alive. Defaults to 1.</summary>
    public int? MinReplicas { get; init; }

    public ModelSpec Model { get; init; } = new();

    public DataSpec Data { get; init; } = new();

    public TrainingSpec Training { get; init; } = new();

    public AlgorithmSpec Algorithm { get; init; } = new();

    public CheckpointSpec Checkpoint { get; init; } = new();

    public FaultToleranceSpec FaultTolerance { get; init; } = new();

    public TransportSpec Transport { get; init; } = new();
}

/// <summary>How ring traffic moves between replica processes.</summary>
public sealed record TransportSpec
{
    /// <summary>
    /// <c>socket</c> (default): bulk bytes over plain TCP on the gRPC port + 1, authenticated by the job token;
    /// <c>grpc</c>: everything over the gRPC port, at gRPC's lower throughput, when only one port can be opened.
    /// </summary>
    public string DataPlane { get; init; } = "socket";
}

/// <summary>Periodic checkpoints of each replica (replica processes only).</summary>
public sealed record CheckpointSpec
{
    /// <summary>Steps between checkpoints; 0 writes none (but SIGTERM still writes one).</summary>
    public int EverySteps { get; init; }

    /// <summary>Directory for checkpoints; each replica writes under <c>rank-N/</c>.</summary>
    public string? Path { get; init; }

    /// <summary>How many checkpoints each replica keeps.</summary>
    public int Keep { get; init; } = 3;
}

/// <summary>Timeouts of the sync rounds between replica processes.</summary>
public sealed record FaultToleranceSpec
{
    /// <summary>A collective operation that makes no progress for this long fails, and the round is redone.</summary>
    public double RoundTimeoutSeconds { get; init; } = 30;

    /// <summary>How long the first quorum waits for every replica to start.</summary>
    public double JoinTimeoutSeconds { get; init; } = 60;

    /// <summary>How long a round waits for a live member that has not reached the sync point.</summary>
    public double ArrivalTimeoutSeconds { get; init; } = 600;
}

/// <summary>A GPT-style decoder. <see cref="Vocab"/> defaults to the data's vocabulary.</summary>
public sealed record ModelSpec
{
    public string Type { get; init; } = "gpt";

    public int Layers { get; init; } = 2;

    public int Dim { get; init; } = 64;

    public int Heads { get; init; } = 4;

    public int Context { get; init; } = 64;

    public int? Vocab { get; init; }
}

/// <summary>Either a text file read as bytes (<see cref="Path"/>) or a synthetic Markov source.</summary>
public sealed record DataSpec
{
    public string? Path { get; init; }

    public SyntheticSpec? Synthetic { get; init; }
}

/// <summary>A seeded order-k Markov chain over <see cref="Vocab"/> tokens; its entropy rate is the best loss possible.</summary>
public sealed record SyntheticSpec
{
    public int Vocab { get; init; } = 16;

    public int Order { get; init; } = 2;

    public int Seed { get; init; } = 7;

    /// <summary>Scale of the random transition logits: higher means a more predictable chain.</summary>
    public double Sharpness { get; init; } = 2.5;
}

public sealed record TrainingSpec
{
    public int Steps { get; init; } = 400;

    public int BatchSize { get; init; } = 16;

    public double LearningRate { get; init; } = 3e-3;

    public int WarmupSteps { get; init; } = 20;

    public double MinLearningRateRatio { get; init; } = 0.1;

    public double GradClip { get; init; } = 1.0;

    public double WeightDecay { get; init; } = 0.01;

    public double Beta1 { get; init; } = 0.9;

    public double Beta2 { get; init; } = 0.999;

    public int Seed { get; init; } = 1;

    /// <summary>Held-out batches per replica for the evaluation loss at the end of training.</summary>
    public int EvalBatches { get; init; } = 8;
}
