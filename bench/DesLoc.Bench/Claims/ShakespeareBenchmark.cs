using System.Globalization;
using System.Text;
using DesLoc.Sync.Accounting;
using DesLoc.Trainer.Preparation;
using DesLoc.Trainer.Training;
using static TorchSharp.torch;

namespace DesLoc.Bench.Claims;

/// <summary>
/// <c>shakespeare [steps] [seeds] [output]</c>: validation loss on tiny Shakespeare (bytes, nanoGPT's shakespeare_char
/// setting scaled to 2 cores) reached by one worker with DDP and by 4 replicas with DES-LOC (and Local Adam, the
/// method DES-LOC refines) at equal tokens: the single worker's batch is the four replicas' together. Each seed is a
/// paired run; the table gives mean ± a 95 % t-interval over seeds of the loss and of the gap to DDP.
/// </summary>
internal static class ShakespeareBenchmark
{
    private static readonly CultureInfo s_text = CultureInfo.InvariantCulture;

    public static async Task<int> RunAsync(string[] args)
    {
        int steps = args.Length > 1 ? int.Parse(args[1], s_text) : 768;   // a multiple of Kv: every method ends on a sync of all its state
        int seeds = args.Length > 2 ? int.Parse(args[2], s_text) : 5;
        string output = args.Length > 3 ? args[3] : "bench/results/shakespeare.md";
        using TinyShakespeare shakespeare = await TinyShakespeare.PrepareBytesAsync();
        PrepareResult prepared = shakespeare.Prepared;

        var methods = new (string Name, int Replicas, AlgorithmSpec Algorithm)[]
        {
            ("DDP, 1 worker, batch 64", 1, new() { Type = AlgorithmType.DDP }),
            ("Local Adam K=16, 4 x batch 16", 4, new() { Type = AlgorithmType.LocalAdam, LocalAdam = new() { Period = 16 } }),
            ("DES-LOC Kx=16 (48, 96), 4 x batch 16", 4, new() { Type = AlgorithmType.DESLOC, Desloc = new() { Kx = 16 } }),
        };

        var losses = new Dictionary<string, List<double>>();
        var bytes = new Dictionary<string, (long Sent, long Ddp, double Seconds)>();
        for (int seed = 1; seed <= seeds; seed++)
        {
            foreach ((string name, int replicas, AlgorithmSpec algorithm) in methods)
            {
                JobSpec spec = Spec(shakespeare.Shards, replicas, algorithm, steps, seed);
                using var job = new InProcessJob(spec, CPU);
                JobResult result = await job.RunAsync(CancellationToken.None);
                (losses.TryGetValue(name, out var list) ? list : losses[name] = []).Add(result.MeanEvalLoss);
                LedgerSnapshot ledger = result.Ledgers[0];
                bytes[name] = (ledger.TotalWireBytes, ledger.DdpEquivalentWireBytes, result.WallTime.TotalSeconds);
                Console.WriteLine(string.Create(s_text, $"seed {seed} {name}: validation loss {result.MeanEvalLoss:0.0000} in {result.WallTime.TotalSeconds:0} s"));
            }
        }

        string ddp = methods[0].Name;
        var table = new StringBuilder();
        table.AppendLine(string.Create(s_text,
            $"tiny Shakespeare as bytes ({prepared.TrainTokens:N0} training, {prepared.ValidationTokens:N0} validation tokens), llama 2 layers x 64 (4 heads, 2 kv heads, context 64), AdamW lr 3e-3 cosine, {steps} steps, {seeds} seeds, CPU 1 thread per process; equal tokens: {steps * 64 * 64:N0} per method. Validation loss over the first {EvalWindows} windows of the held-out 10 % (the same windows for every method)."));
        table.AppendLine();
        table.AppendLine("| method | validation loss (nats/byte) | gap to DDP, paired | bytes sent / replica | flat DDP bytes | reduction | wall time / run |");
        table.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach ((string name, _, _) in methods)
        {
            double[] own = [.. losses[name]];
            double[] gap = [.. own.Zip(losses[ddp], (a, b) => a - b)];
            (long sent, long flat, double seconds) = bytes[name];
            string reduction = sent > 0 ? ByteFormat.Factor(flat / (double)sent) : "-";
            table.AppendLine(string.Create(s_text,
                $"| {name} | {Interval(own)} | {(name == ddp ? "-" : Interval(gap))} | {ByteFormat.Bytes(sent)} | {ByteFormat.Bytes(flat)} | {reduction} | {seconds:0} s |"));
        }

        table.AppendLine();
        table.AppendLine("Intervals: mean ± t(0.975, n−1)·s/√n over seeds; the gap pairs each seed's run with DDP's of the same seed (same initial model).");
        await ResultsFile.WriteAsync(output, "Validation loss on tiny Shakespeare at equal tokens", string.Create(s_text, $"bash bench/shakespeare.sh {steps} {seeds}"), table.ToString());
        return 0;
    }

    /// <summary>Held-out windows every run is evaluated on: the same ones whatever its batch size.</summary>
    private const int EvalWindows = 640;

    private static JobSpec Spec(string shards, int replicas, AlgorithmSpec algorithm, int steps, int seed) => new()
    {
        Replicas = replicas,
        Model = new ModelSpec { Type = ModelSpec.Llama, Layers = 2, Dim = 64, Heads = 4, KvHeads = 2, Context = 64 },
        Data = new DataSpec { Shards = shards, Tokenizer = TokenizerNames.Bytes },
        Training = new TrainingSpec
        {
            Steps = steps, BatchSize = 64 / replicas, LearningRate = 3e-3, WarmupSteps = 30, Seed = seed, EvalBatches = EvalWindows / (64 / replicas),
        },
        Algorithm = algorithm,
    };

    private static string Interval(double[] values) => Bench.Interval.Of(values).Plain();
}
