using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace DesLoc.Contract.Spec;

/// <summary>
/// What to train and how: the fields of a LowCommJob spec that the trainer reads, declared once. The operator's
/// resource extends this record with the fields only Kubernetes needs (the pod template, the run policy); the
/// trainer reads it from <c>DESLOC_CONFIG</c> as it is. Property initializers are the defaults; the CRD generator
/// writes them into the schema and <see cref="Validation.JobSpecValidation"/> checks the same attributes.
/// </summary>
public record JobSpec
{
    [Description("Number of trainer replicas; each one is a Pod that holds a full copy of the model.")]
    [Range(1, 1024)]
    public int Replicas { get; init; } = 4;

    [Description("Data-parallel workers inside each replica (one device each): they average gradients every step over the replica's fast links, and each carries one shard of every exchange between replicas. 1 keeps a replica one Pod.")]
    [Range(1, 64)]
    public int WorkersPerReplica { get; init; } = 1;

    [Description("Quorum floor: sync rounds wait while fewer replicas are alive. Defaults to 1.")]
    [Range(1, 1024)]
    public int? MinReplicas { get; init; }

    public ModelSpec Model { get; init; } = new();

    public DataSpec Data { get; init; } = new();

    public TrainingSpec Training { get; init; } = new();

    public AlgorithmSpec Algorithm { get; init; } = new();

    public SyncSpec Sync { get; init; } = new();

    public CheckpointSpec Checkpoint { get; init; } = new();

    public FaultToleranceSpec FaultTolerance { get; init; } = new();

    public TransportSpec Transport { get; init; } = new();

    /// <summary>How float state travels between replicas: <see cref="SyncSpec.Compression"/>, else bf16 when training in bf16, else none.</summary>
    [JsonIgnore]
    public string EffectiveSyncCompression => Sync.Compression ?? (Training.Precision == TrainingSpec.Bf16 ? SyncSpec.Bf16Compression : SyncSpec.NoCompression);
}

[Description("A decoder-only language model: GPT-2 style (gpt) or Llama style (llama).")]
public sealed record ModelSpec
{
    /// <summary>The GPT-2 style decoder: learned positions, LayerNorm, a GELU MLP, biases.</summary>
    public const string Gpt = "gpt";

    /// <summary>The Llama style decoder: RMSNorm, rotary positions, a SwiGLU MLP, no biases.</summary>
    public const string Llama = "llama";

    /// <summary>SwiGLU hidden sizes are rounded up to a multiple of this (Llama uses 256 at its sizes; 32 suits small models).</summary>
    public const int SwiGluMultipleOf = 32;

    [Description("Model family: gpt (learned positions, LayerNorm, GELU MLP, biases) or llama (RMSNorm, rotary positions, SwiGLU MLP, no biases).")]
    [AllowedValues(Gpt, Llama)]
    public string Type { get; init; } = Gpt;

    [Range(1, 256)]
    public int Layers { get; init; } = 2;

    [Range(1, 65536)]
    public int Dim { get; init; } = 64;

    [Range(1, 1024)]
    public int Heads { get; init; } = 4;

    [Description("llama only: key/value heads for grouped-query attention; must divide heads. Defaults to heads (plain multi-head attention).")]
    [Range(1, 1024)]
    public int? KvHeads { get; init; }

    [Description("llama only: the output head shares the token embedding's weight.")]
    public bool TiedEmbeddings { get; init; }

    [Description("llama only: base of the rotary position embedding's frequencies.")]
    [Range(1.0, 1e9)]
    public double RopeTheta { get; init; } = 10000;

    [Range(1, 1048576)]
    public int Context { get; init; } = 64;

    [Description("Vocabulary size; defaults to the data's (256 for a text file). At least the data's.")]
    [Range(2, 1048576)]
    public int? Vocab { get; init; }

    /// <summary>
    /// llama's MLP width, Llama's rule: two thirds of 4·dim (so its three matrices hold about as many weights as a 4x
    /// GELU MLP's two), rounded up to <see cref="SwiGluMultipleOf"/>.
    /// </summary>
    public static int SwiGluHidden(int dim) => ((2 * 4 * dim / 3) + SwiGluMultipleOf - 1) / SwiGluMultipleOf * SwiGluMultipleOf;
}

[Description("One of: a text file read as bytes (path), a dataset that desloc-trainer prepare wrote (shards), or a synthetic Markov source (the default). Paths are inside the trainer container.")]
public sealed record DataSpec
{
    /// <summary>Tokens a text file read as bytes can produce.</summary>
    public const int ByteVocab = 256;

    /// <summary>The file of a prepared dataset that lists its shards, in the <see cref="Shards"/> directory.</summary>
    public const string ManifestFile = "manifest.json";

    [MinLength(1)]
    public string? Path { get; init; }

    [Description("A directory holding a dataset that desloc-trainer prepare wrote: its manifest.json and token shards.")]
    [MinLength(1)]
    public string? Shards { get; init; }

    [Description("The tokenizer the shards are encoded with (their manifest must say the same): gpt2 (50257 tokens) or bytes (256). It sets the data's vocabulary.")]
    [AllowedValues(TokenizerNames.Gpt2, TokenizerNames.Bytes)]
    public string Tokenizer { get; init; } = TokenizerNames.Gpt2;

    public SyntheticSpec? Synthetic { get; init; }

    /// <summary>
    /// Tokens the data produces: 256 for bytes of a text file, the tokenizer's vocabulary for shards (0 for a tokenizer
    /// that is not one, which its own rule refuses), else the synthetic vocabulary.
    /// </summary>
    [JsonIgnore]
    public int Vocab =>
        Path is not null ? ByteVocab
        : Shards is not null ? (TokenizerNames.All.Contains(Tokenizer) ? TokenizerNames.VocabOf(Tokenizer) : 0)
        : (Synthetic ?? new SyntheticSpec()).Vocab;
}

[Description("A seeded order-k Markov chain; its entropy rate is the best loss possible. vocab^order may be at most 2^20 states.")]
public sealed record SyntheticSpec
{
    /// <summary>The largest transition table the trainer builds: vocab^order states.</summary>
    public const int MaxStates = 1 << 20;

    [Range(2, 256)]
    public int Vocab { get; init; } = 16;

    [Range(1, 20)]
    public int Order { get; init; } = 2;

    public int Seed { get; init; } = 7;

    [Description("Scale of the random transition logits: higher means a more predictable chain.")]
    [Range(0.0, 100.0)]
    public double Sharpness { get; init; } = 2.5;
}

public sealed record TrainingSpec
{
    /// <summary>Float32 weights, activations and optimizer state.</summary>
    public const string Fp32 = "fp32";

    /// <summary>bfloat16 weights and activations for forward and backward; float32 master weights, gradients and AdamW state.</summary>
    public const string Bf16 = "bf16";

    [Range(1, int.MaxValue)]
    public int Steps { get; init; } = 400;

    [Description("Sequences per micro-batch of one worker.")]
    [Range(1, 1048576)]
    public int BatchSize { get; init; } = 16;

    [Description("Gradient accumulation: micro-batches each worker runs forward and backward per step, so a step trains on microBatches x batchSize sequences per worker with the activations of one micro-batch.")]
    [Range(1, 4096)]
    public int MicroBatches { get; init; } = 1;

    [Range(0.0, 10.0, MinimumIsExclusive = true)]
    public double LearningRate { get; init; } = 3e-3;

    [Range(0, int.MaxValue)]
    public int WarmupSteps { get; init; } = 20;

    [Range(0.0, 1.0)]
    public double MinLearningRateRatio { get; init; } = 0.1;

    [Description("Global-norm gradient clipping; 0 disables it.")]
    [Range(0.0, 1e6)]
    public double GradClip { get; init; } = 1.0;

    [Range(0.0, 10.0)]
    public double WeightDecay { get; init; } = 0.01;

    [Range(0.0, 1.0, MaximumIsExclusive = true)]
    public double Beta1 { get; init; } = 0.9;

    [Range(0.0, 1.0, MaximumIsExclusive = true)]
    public double Beta2 { get; init; } = 0.999;

    public int Seed { get; init; } = 1;

    [Description("Intra-op threads of each worker process. 1 suits several workers sharing a machine's cores (more threads then collapse throughput); give a worker that has the machine to itself its cores.")]
    [Range(1, 256)]
    public int Threads { get; init; } = 1;

    [Description("fp32: everything in float32. bf16: the model computes forward and backward in bfloat16 (a bfloat16 copy of the weights); float32 master weights, gradients and AdamW state are what the optimizer steps and the replicas sync; the loss is taken in float32.")]
    [AllowedValues(Fp32, Bf16)]
    public string Precision { get; init; } = Fp32;

    [Description("Held-out batches per replica for the evaluation loss at the end of training.")]
    [Range(0, 100000)]
    public int EvalBatches { get; init; } = 8;

    [Description("Steps between evaluations of the held-out loss during training (worker 0 of each replica, at a step boundary); 0 evaluates only at the end.")]
    [Range(0, int.MaxValue)]
    public int EvalEverySteps { get; init; }
}

[Description("Where model state goes on disk.")]
public sealed record CheckpointSpec
{
    /// <summary>Where the operator mounts the checkpoint volume in the trainer container, unless path says otherwise.</summary>
    public const string DefaultMountPath = "/checkpoints";

    /// <summary>Where rank 0 exports the trained model (model.safetensors, config.json), under the checkpoint path.</summary>
    public const string ExportDirectoryName = "export";

    [Description("Steps between checkpoints; 0 writes none (a stopping replica still writes one).")]
    [Range(0, int.MaxValue)]
    public int EverySteps { get; init; }

    [Description("Checkpoints each replica keeps.")]
    [Range(1, 1000)]
    public int Keep { get; init; } = 3;

    [Description("Directory of the checkpoints inside the trainer container (each replica writes under rank-N/); the volume is mounted there. Defaults to /checkpoints on a cluster.")]
    [MinLength(1)]
    public string? Path { get; init; }

    [Description("A core/v1 Volume (without a name) for the checkpoints, for example a persistentVolumeClaim. Without it each pod gets an emptyDir, and a replaced replica heals from a live peer.")]
    public JsonObject? Volume { get; init; }
}

[Description("How ring traffic moves between replicas.")]
public sealed record TransportSpec
{
    [Description("socket: bulk bytes over TCP on the gRPC port + 1 (fast); grpc: everything over the gRPC port.")]
    [AllowedValues("socket", "grpc")]
    public string DataPlane { get; init; } = "socket";

    [Description("Mutual TLS with the job's own CA on every connection between replicas (gRPC and socket data plane) and from the operator; false turns it off (a trusted, isolated network only). The job token is checked either way.")]
    public bool Tls { get; init; } = true;

    [Description("socket data plane: TCP connections to the ring successor, each message striped across them in contiguous slices of at least 256 KiB (one TCP window falls short of a long fat link's bandwidth-delay product, and TLS ciphers one connection on one core). Defaults to 4: over an emulated 1 Gbit/s link with a 50 ms round trip, 4 connections all-reduce 1.5x to 1.7x faster than 1 at 2 replicas (bench/transport.sh).")]
    [Range(1, 16)]
    public int Streams { get; init; } = 4;

    [Description("socket data plane: send and receive buffer of each connection, in bytes (for a link's bandwidth-delay product). Unset, the kernel tunes them (Linux: up to net.ipv4.tcp_rmem/tcp_wmem's maximum); set, autotuning is off and Linux caps the value at net.core.rmem_max/wmem_max.")]
    [Range(65536, 268435456)]
    public int? SocketBufferBytes { get; init; }
}
