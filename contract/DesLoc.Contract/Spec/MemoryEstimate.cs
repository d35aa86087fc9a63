using System.Globalization;

namespace DesLoc.Contract.Spec;

/// <summary>
/// What one worker process of a job holds in memory, estimated from its spec before anything trains, so that a job
/// that cannot fit is refused with the numbers instead of sitting at step 0 until it is killed. Parameters are counted
/// exactly (a test checks the count against the models the trainer builds); the rest is float32 state per parameter
/// (weights, gradients, AdamW's two moments, what the sync algorithm and the fault-tolerant exchange keep), the
/// activations of one batch, and the runtime itself. Training in bf16 adds the model's bfloat16 copy of the weights
/// and its bfloat16 gradients beside the float32 master ones, and halves the activations.
/// </summary>
public sealed record MemoryEstimate(
    long Parameters, long Weights, long Gradients, long OptimizerState, long SyncState, long Activations, long Runtime)
{
    /// <summary>.NET, libtorch and the gRPC servers of an idle worker (about 0.4 GiB measured for a tiny job, rounded up).</summary>
    public const long RuntimeBytes = 512L << 20;

    private const int BFloat16Bytes = 2;

    public long TotalBytes => Weights + Gradients + OptimizerState + SyncState + Activations + Runtime;

    /// <summary>
    /// What the worker needs in the host's memory: everything when it trains on the CPU; with a GPU, only the sync
    /// algorithm's and the exchange's host buffers and the runtime (weights, gradients, moments and activations are
    /// on the device, whose memory this estimate does not check).
    /// </summary>
    public long HostBytes(bool onGpu) => onGpu ? SyncState + Runtime : TotalBytes;

    /// <summary>One worker of <paramref name="spec"/>, training on data of <paramref name="dataVocab"/> tokens.</summary>
    public static MemoryEstimate For(JobSpec spec, int dataVocab)
    {
        ModelSpec model = spec.Model;
        long parameters = ParameterCount(model, model.Vocab ?? dataVocab);
        long vector = parameters * sizeof(float);
        // bf16: the model's bfloat16 weights and gradients sit beside the float32 master ones.
        long modelCopy = spec.Training.Precision == TrainingSpec.Bf16 ? parameters * BFloat16Bytes : 0;
        return new MemoryEstimate(
            parameters,
            Weights: vector + modelCopy,
            Gradients: vector + modelCopy,
            OptimizerState: 2 * vector,
            SyncState: SyncVectors(spec) * vector,
            Activations: ActivationBytes(spec, model.Vocab ?? dataVocab),
            Runtime: RuntimeBytes);
    }

    /// <summary>Trainable parameters of the model <paramref name="model"/> describes, over <paramref name="vocab"/> tokens.</summary>
    public static long ParameterCount(ModelSpec model, int vocab)
    {
        long d = model.Dim;
        long v = vocab;
        if (model.Type == ModelSpec.Llama)
        {
            long kv = d / model.Heads * (model.KvHeads ?? model.Heads);
            long hidden = ModelSpec.SwiGluHidden(model.Dim);
            long block = (2 * d) + (d * d) + (2 * d * kv) + (d * d) + (3 * d * hidden);   // two RMSNorms, q, k and v, o, SwiGLU
            return (v * d) + (model.Layers * block) + d + (model.TiedEmbeddings ? 0 : v * d);
        }

        long gptBlock = (2 * 2 * d) + (d * 3 * d) + (3 * d) + (d * d) + d + (d * 4 * d) + (4 * d) + (4 * d * d) + d;   // two LayerNorms, qkv, projection, MLP
        return (v * d) + ((long)model.Context * d) + (model.Layers * gptBlock) + (2 * d) + (d * v) + v;
    }

    /// <summary>What to print: the total and its parts.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Gib(TotalBytes)} ({Parameters:N0} parameters: weights {Gib(Weights)}, gradients {Gib(Gradients)}, AdamW moments {Gib(OptimizerState)}, sync and heal state {Gib(SyncState)}, activations {Gib(Activations)}, runtime {Gib(Runtime)})");

    public static string Gib(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.00} GiB");

    /// <summary>
    /// Parameter-sized float32 vectors the algorithm keeps beside the model: its scratch buffer and state (Local Adam's
    /// fused buffer of three, DiLoCo's and PALSGD's anchor, outer momentum and pseudo-gradient residual, DCT momentum's anchor, momentum, delta and
    /// coefficients), the fast tier's gradient buffer with several workers, and the snapshot a sync point publishes
    /// for heal and rollback (parameters, both moments, gradients).
    /// </summary>
    private static long SyncVectors(JobSpec spec)
    {
        long algorithm = spec.Algorithm.Type switch
        {
            AlgorithmType.LocalAdam => 3,
            AlgorithmType.DiLoCo or AlgorithmType.PALSGD => 3,
            AlgorithmType.DCTMomentum => 4,
            _ => 0,
        };
        return 1 + algorithm + (spec.WorkersPerReplica > 1 ? 1 : 0) + 4;
    }

    /// <summary>
    /// One batch's activations kept for the backward pass: per layer s·b·h·(34 + 5·a·s/h) half-precision bytes
    /// (Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer Models", eq. 1), doubled for
    /// float32 (as is for bf16), plus the logits and their gradient (b·s·V floats each, twice for the softmax; float32
    /// in both precisions, since the loss is taken in float32).
    /// </summary>
    private static long ActivationBytes(JobSpec spec, int vocab)
    {
        double s = spec.Model.Context;
        double b = spec.Training.BatchSize;
        double h = spec.Model.Dim;
        double a = spec.Model.Heads;
        double bytesPerHalf = spec.Training.Precision == TrainingSpec.Bf16 ? 1 : 2;
        double perLayer = bytesPerHalf * s * b * h * (34 + (5 * a * s / h));
        double logits = 4 * s * b * vocab * sizeof(float);
        return (long)((spec.Model.Layers * perLayer) + logits);
    }
}
