using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using DesLoc.Sync.Algorithms;
using DesLoc.Trainer.Data;
using DesLoc.Trainer.Training;
using DesLoc.Transport.Collectives;
using static TorchSharp.torch;

namespace DesLoc.Bench.Throughput;

/// <summary>
/// <c>tokens-per-second STEPS WARMUP DIM LAYERS CONTEXT BATCH PYTORCH_JSON OUTPUT</c>: one worker training gpt and llama
/// (4 heads, bytes of tinyshakespeare) at fp32 and bf16 on 1 and 2 threads; tokens/s over STEPS steps
/// (forward, backward, AdamW) after WARMUP steps, beside PyTorch's figures for the same model (bench/tokens_per_second.py
/// writes PYTORCH_JSON), and the fraction of the cores' peak FLOP/s reached.
/// </summary>
internal static class TokensPerSecondBenchmark
{
    private const int Heads = 4;

    private static readonly CultureInfo s_text = CultureInfo.InvariantCulture;

    public static async Task<int> RunAsync(string[] args)
    {
        int steps = int.Parse(args[1], s_text);
        int warmup = int.Parse(args[2], s_text);
        var shape = new ModelShape(int.Parse(args[3], s_text), int.Parse(args[4], s_text), int.Parse(args[5], s_text), int.Parse(args[6], s_text));
        Dictionary<string, double> pytorch = JsonSerializer.Deserialize<Dictionary<string, double>>(await File.ReadAllTextAsync(args[7]))!;
        string output = args[8];
        double peakPerCore = PeakFlopsPerCore(out string peakText, out bool bf16Instructions);
        string loadBefore = LoadAverage();

        var table = new StringBuilder();
        table.AppendLine(string.Create(s_text, $"One worker, bytes of bench/data/tinyshakespeare-32k.txt (vocab 256), dim {shape.Dim}, {shape.Layers} layers, {Heads} heads, context {shape.Context}, batch {shape.Batch}: {shape.Batch * shape.Context} tokens a step; forward, backward and AdamW; {steps} steps timed after {warmup} warm-up steps. PyTorch is Debian's python3-torch {pytorch.GetValueOrDefault("version"):0.##} with the same architecture (bench/tokens_per_second.py)."));
        table.AppendLine();
        table.AppendLine(peakText);
        table.AppendLine();
        table.AppendLine("| model | precision | threads | TorchSharp tokens/s | PyTorch tokens/s | TorchSharp / PyTorch | model FLOPs per token | TorchSharp % of peak | PyTorch % of peak | bf16 / fp32 (TorchSharp) |");
        table.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (string model in new[] { ModelSpec.Gpt, ModelSpec.Llama })
        {
            foreach (int threads in new[] { 1, 2 })
            {
                double fp32 = double.NaN;
                foreach (string precision in new[] { TrainingSpec.Fp32, TrainingSpec.Bf16 })
                {
                    JobSpec spec = Spec(shape, model, precision, threads, steps + warmup);
                    double flopsPerToken = FlopsPerToken(spec);
                    double ours = await TokensPerSecondAsync(spec, warmup);
                    fp32 = precision == TrainingSpec.Fp32 ? ours : fp32;
                    double theirs = pytorch.TryGetValue($"{model}/{precision}/{threads}", out double value) ? value : double.NaN;
                    double peak = peakPerCore * threads;
                    string line = string.Create(s_text,
                        $"| {model} | {precision} | {threads} | {ours:N0} | {theirs:N0} | {ours / theirs:0.00}x | {flopsPerToken / 1e6:0.0} M | {100 * ours * flopsPerToken / peak:0.0}% | {100 * theirs * flopsPerToken / peak:0.0}% | {(precision == TrainingSpec.Bf16 ? (ours / fp32).ToString("0.00", s_text) + "x" : "")} |");
                    table.AppendLine(line);
                    Console.WriteLine(line);
                }
            }
        }

        table.AppendLine();
        table.AppendLine(string.Create(s_text, $"Load average (1, 5, 15 min) before: {loadBefore}; after: {LoadAverage()}. A load average above the machine's cores means other work shared it and the figures are low and noisy."));
        if (!bf16Instructions)
        {
            table.AppendLine();
            table.AppendLine("bf16 is far slower than fp32 here (the last column), not 1.5x faster: this CPU has no bf16 arithmetic (no avx512_bf16, no AMX, no AVX-512 at all; AVX2 only, against what the issue expected), so libtorch's bfloat16 kernels have no fast path (a few GFLOP/s, against tens for float32 through its MKL/oneDNN kernels; the master-weight copies are a few MB a step and do not explain it). bf16 can only win where the hardware multiplies bf16 (AVX-512 BF16, AMX, a GPU); on this machine train in fp32. What bf16 gives everywhere is sync.compression's half-size payloads, which an fp32 job can use too.");
        }

        if (pytorch.GetValueOrDefault("reference_blas") > 0)
        {
            table.AppendLine();
            table.AppendLine("PyTorch's float32 column measures Debian's reference BLAS: python3-torch is built with BLAS_INFO=generic and this machine's libblas.so.3 is netlib's unoptimised one (OpenBLAS is not installed), so its float32 matmuls run at a small fraction of the core's peak; TorchSharp's libtorch brings its own MKL/oneDNN kernels. PyTorch 1.13 also lacks the fused scaled-dot-product attention, so the script uses the plain masked softmax.");
        }

        await ResultsFile.WriteAsync(output, "Tokens per second", string.Create(s_text, $"bash bench/tokens-per-second.sh {steps} {warmup} {shape.Dim} {shape.Layers} {shape.Context} {shape.Batch}"), table.ToString());
        return 0;
    }

    private static JobSpec Spec(ModelShape shape, string model, string precision, int threads, int steps) => new()
    {
        Replicas = 1,
        Model = new ModelSpec { Type = model, Dim = shape.Dim, Layers = shape.Layers, Heads = Heads, Context = shape.Context },
        Data = new DataSpec { Path = "bench/data/tinyshakespeare-32k.txt" },
        Training = new TrainingSpec { Steps = steps, BatchSize = shape.Batch, Precision = precision, Threads = threads, WarmupSteps = 1, EvalBatches = 0 },
        // One replica that never syncs: the figure is the model's, with no state copied out for an exchange.
        Algorithm = new AlgorithmSpec { Type = AlgorithmType.LocalAdam, LocalAdam = new() { Period = 1_000_000 } },
    };

    /// <summary>
    /// Matmul FLOPs of one token's forward and backward: 6 per weight that multiplies (all but the embedding tables), plus
    /// attention's scores and weighted sum, 6·L·T·d (2·2·T·d forward, twice that backward, halved for the causal mask
    /// kernels skip: PaLM's 12·L·T·d counts the full square).
    /// </summary>
    private static double FlopsPerToken(JobSpec spec)
    {
        ModelSpec model = spec.Model;
        long embeddings = (long)DataSpec.ByteVocab * model.Dim + (model.Type == ModelSpec.Gpt ? (long)model.Context * model.Dim : 0);
        long multiplying = MemoryEstimate.ParameterCount(model, DataSpec.ByteVocab) - embeddings;
        return (6.0 * multiplying) + (6.0 * model.Layers * model.Context * model.Dim);
    }

    private static async Task<double> TokensPerSecondAsync(JobSpec spec, int warmup)
    {
        set_num_threads(spec.Training.Threads);
        random.manual_seed(spec.Training.Seed);
        ITokenSource data = TokenSources.Create(spec);
        using var trainer = new ReplicaTrainer(spec, data, new InMemoryCollectiveGroup(1)[0], CPU);
        var gate = new TimingGate(warmup, spec.Training.Steps);
        await Task.Run(() => trainer.RunAsync(gate, CancellationToken.None, CancellationToken.None));
        long timedSteps = spec.Training.Steps - warmup;
        return timedSteps * spec.Training.BatchSize * spec.Model.Context / gate.Timed.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// Peak float32 FLOP/s of one core: clock × SIMD lanes × 2 (a fused multiply-add) × FMA units. Read from
    /// /proc/cpuinfo: AVX-512 gives 16 lanes, AVX2 8; two FMA units (Zen 2+ and Intel server cores with AVX2 or two
    /// AVX-512 ports). Without avx512_bf16 the CPU has no bf16 arithmetic: bf16 kernels widen to float32, so bf16's
    /// peak is the same; its gain can only come from moving half the bytes.
    /// </summary>
    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(", ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private static double PeakFlopsPerCore(out string text, out bool bf16Instructions)
    {
        string info = File.Exists("/proc/cpuinfo") ? File.ReadAllText("/proc/cpuinfo") : "";
        string Field(string name) => info.Split('\n').FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "";
        string[] flags = Field("flags").Split(' ');
        double ghz = double.TryParse(Field("cpu MHz"), NumberStyles.Float, s_text, out double mhz) ? mhz / 1000 : double.NaN;
        int lanes = flags.Contains("avx512f") ? 16 : flags.Contains("avx2") ? 8 : 4;
        const int fmaUnits = 2;
        double peak = ghz * 1e9 * lanes * 2 * fmaUnits;
        bool bf16 = flags.Contains("avx512_bf16") || flags.Contains("amx_bf16");
        bf16Instructions = bf16;
        text = string.Create(s_text,
            $"CPU: {Field("model name")} (family {Field("cpu family")}, model {Field("model")}), {ghz:0.00} GHz as /proc/cpuinfo reports it, {(lanes == 16 ? "AVX-512" : lanes == 8 ? "AVX2" : "SSE")}, {(bf16 ? "with" : "no")} bf16 instructions (avx512_bf16/amx_bf16 {(bf16 ? "present" : "absent")}). Peak per core = {ghz:0.00} GHz x {lanes} float32 lanes x 2 (FMA) x {fmaUnits} FMA units = {peak / 1e9:0.0} GFLOP/s; with 2 threads, twice that.");
        return peak;
    }

    /// <summary>The in-process gate, noting when the warm-up steps are done and when the last step is.</summary>
    private sealed class TimingGate(int warmup, int steps) : ISyncGate
    {
        public Stopwatch Timed { get; } = new();

        public Task<ResumePoint?> StartAsync(IGatedReplica replica, CancellationToken stopping, CancellationToken cancellationToken)
        {
            if (warmup == 0)
            {
                Timed.Start();
            }

            return Task.FromResult<ResumePoint?>(null);
        }

        public Task<ResumePoint?> ExchangeAsync(IGatedReplica replica, long step, SyncPhase phase, Func<Task> exchange, CancellationToken stopping, CancellationToken cancellationToken) =>
            DirectGate.Instance.ExchangeAsync(replica, step, phase, exchange, stopping, cancellationToken);

        public Task<ResumePoint?> RegroupAsync(IGatedReplica replica, long step, CancellationToken stopping, CancellationToken cancellationToken) =>
            DirectGate.Instance.RegroupAsync(replica, step, stopping, cancellationToken);

        public void StepCompleted(IGatedReplica replica, long step)
        {
            if (step == warmup)
            {
                Timed.Restart();
            }

            if (step == steps)
            {
                Timed.Stop();
            }
        }
    }
}

/// <summary>The benchmarked model's size and batch.</summary>
internal readonly record struct ModelShape(int Dim, int Layers, int Context, int Batch);
