using System.Globalization;
using System.Text;
using DesLoc.Sync.Accounting;
using DesLoc.Trainer.Training;
using static TorchSharp.torch;

namespace DesLoc.Bench;

/// <summary>
/// <c>sync [steps]</c>: every method, 4 in-process replicas, the synthetic source, equal steps; bytes per replica,
/// DDP bytes, reduction, held-out loss, gap to DDP, steps/s; then single-replica tokens/s on 1 thread.
/// </summary>
internal static class Program
{
    private static readonly CultureInfo s_text = CultureInfo.InvariantCulture;

    public static async Task<int> Main(string[] args) => args.FirstOrDefault() switch
    {
        "transport" => await Transport.TransportBenchmark.RunAsync(args),
        "allreduce-worker" => await Transport.AllReduceWorker.RunAsync(args),
        "delay-line" => Transport.DelayLine.Run(args),
        "operator" => await Operator.OperatorBenchmark.RunAsync(args),
        "slow-links" => await Claims.SlowLinksBenchmark.RunAsync(args),
        "adaptive" => await Claims.AdaptiveBenchmark.RunAsync(args),
        "two-sites" => await Claims.TwoSitesBenchmark.RunAsync(args),
        "shakespeare" => await Claims.ShakespeareBenchmark.RunAsync(args),
        "claims" => await Fair.FairComparisonBenchmark.RunAsync(args),
        "dct-bytes" => await Claims.DctBytesBenchmark.RunAsync(args),
        "tokens-per-second" => await Throughput.TokensPerSecondBenchmark.RunAsync(args),
        _ => await SyncComparisonAsync(args),
    };

    private static async Task<int> SyncComparisonAsync(string[] args)
    {
        int steps = args.Length > 1 ? int.Parse(args[1], s_text) : 1536;
        string output = args.Length > 2 ? args[2] : "bench/results/sync-comparison.md";
        set_num_threads(1);

        var rows = new (string Name, AlgorithmSpec Algorithm)[]
        {
            ("DDP", new() { Type = AlgorithmType.DDP }),
            ("Local Adam K=32", new() { Type = AlgorithmType.LocalAdam, LocalAdam = new() { Period = 32 } }),
            ("DES-LOC Kx=32 (96, 192)", new() { Type = AlgorithmType.DESLOC, Desloc = new() { Kx = 32 } }),
            ("Local Adam K=256", new() { Type = AlgorithmType.LocalAdam, LocalAdam = new() { Period = 256 } }),
            ("DES-LOC Kx=256 (768, 1536)", new() { Type = AlgorithmType.DESLOC, Desloc = new() { Kx = 256 } }),
            ("DiLoCo H=32", new() { Type = AlgorithmType.DiLoCo, Diloco = new() { Period = 32 } }),
            ("PALSGD H=32 p=0.2", new() { Type = AlgorithmType.PALSGD, Palsgd = new() { Period = 32, Probability = 0.2, Eta = 1 }, DdpWarmupSteps = 32 }),
            ("DCT momentum H=32 top-4/64", new() { Type = AlgorithmType.DCTMomentum, Dct = new() { Period = 32, Blocks = DctSettings.FlatBlocks, TopK = 4 } }),
        };

        var table = new StringBuilder();
        table.AppendLine(string.Create(s_text, $"4 replicas in one process, synthetic order-2 Markov source (vocab 16), GPT 1x32 (ctx 32, batch 16), {steps} steps, CPU, 1 torch thread."));
        table.AppendLine();
        table.AppendLine("| method | bytes sent / replica | DDP bytes | reduction vs DDP | held-out loss | gap to DDP | steps/s |");
        table.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        double ddpLoss = double.NaN;
        double? floor = null;
        foreach ((string name, AlgorithmSpec algorithm) in rows)
        {
            JobResult result = await RunAsync(Spec(algorithm, steps, replicas: 4, tiny: true));
            LedgerSnapshot ledger = result.Ledgers[0];
            ddpLoss = algorithm.Type == AlgorithmType.DDP ? result.MeanEvalLoss : ddpLoss;
            floor = result.EntropyFloor;
            string line = string.Create(s_text,
                $"| {name} | {ByteFormat.Bytes(ledger.TotalWireBytes)} | {ByteFormat.Bytes(ledger.DdpEquivalentWireBytes)} | {ByteFormat.Factor(ledger.ReductionVsDdp)} | {result.MeanEvalLoss:0.000} | {result.MeanEvalLoss - ddpLoss:+0.000;-0.000;0.000} | {result.StepsPerSecond:0.0} |");
            table.AppendLine(line);
            Console.WriteLine(line);
        }

        table.AppendLine();
        table.AppendLine(string.Create(s_text, $"Entropy floor of the source (best possible held-out loss): {floor:0.000}."));
        JobResult single = await RunAsync(Spec(new AlgorithmSpec { Type = AlgorithmType.DDP }, 200, replicas: 1, tiny: false));
        table.AppendLine(string.Create(s_text,
            $"Single replica, default model (2 layers, dim 64, ctx 64, batch 16, {single.ParameterCount:N0} params), 1 thread: {single.TokensPerStep * single.StepsPerSecond:N0} tokens/s ({single.StepsPerSecond:0.0} steps/s)."));

        await ResultsFile.WriteAsync(output, "Sync comparison", string.Create(s_text, $"bash bench/sync-comparison.sh {steps}"), table.ToString());
        return 0;
    }

    private static JobSpec Spec(AlgorithmSpec algorithm, int steps, int replicas, bool tiny) => new()
    {
        Replicas = replicas,
        Model = tiny ? new ModelSpec { Layers = 1, Dim = 32, Heads = 2, Context = 32 } : new ModelSpec(),
        Data = new DataSpec { Synthetic = new SyntheticSpec() },
        Training = new TrainingSpec { Steps = steps, BatchSize = 16, LearningRate = 0.01, WarmupSteps = 20 },
        Algorithm = algorithm,
    };

    private static async Task<JobResult> RunAsync(JobSpec spec)
    {
        using var job = new InProcessJob(spec, CPU);
        return await job.RunAsync(CancellationToken.None);
    }
}
