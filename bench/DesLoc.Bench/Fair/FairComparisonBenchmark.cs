using System.Diagnostics;
using System.Globalization;
using System.Text;
using DesLoc.Trainer.Training;
using static TorchSharp.torch;

namespace DesLoc.Bench.Fair;

/// <summary>
/// <c>claims [local-steps] [seeds] [output]</c>: the papers' claims measured so that a reviewer could accept them. Per
/// source (a seeded Markov chain whose entropy rate is known, and tiny Shakespeare as bytes) every tuned method gets a
/// learning-rate sweep (and an outer-learning-rate sweep for outer-optimizer methods) on the validation stream with seed
/// 1; every arm then runs at its family's best rates on seeds 1..n and is scored on the disjoint test stream. Equal
/// tokens (PALSGD's run is stretched so its expected gradient steps match), the same DDP warm-up for every local method
/// (its bytes reported apart), runs that end on a sync of every state, and Kv small enough that the second moment is
/// averaged several times. Each arm is reported as a paired difference to Local Adam at the base period with a 95 %
/// interval, and a claim is "reproduced" only when its interval sits inside <see cref="MarginNats"/>, fixed here before
/// any run, and the parameters-only ablation is measurably worse.
/// </summary>
internal static class FairComparisonBenchmark
{
    /// <summary>The equivalence margin (nats per token) a difference's whole 95 % interval must sit inside: about 1 % of the
    /// text loss and well under the gap between methods that communicate 4x more or less. Fixed before running.</summary>
    public const double MarginNats = 0.02;

    /// <summary>Base period K: DES-LOC K/3K/6K, Local Adam K, DiLoCo/PALSGD/DCT H = K.</summary>
    public const int K = 8;

    /// <summary>DDP steps before every local method (PALSGD's paper warm-up, given to all).</summary>
    public const int Warmup = 16;

    public static readonly double[] LearningRates = [5e-3, 1e-2, 2e-2, 4e-2, 8e-2];
    public static readonly double[] OuterLearningRates = [0.2, 0.4, 0.7];

    private static readonly CultureInfo s_text = CultureInfo.InvariantCulture;

    public static async Task<int> RunAsync(string[] args)
    {
        // 768 local steps: a multiple of 24·K, so the 4K arms' second moment (Kv = 24K) also ends on a sync.
        int localSteps = args.Length > 1 ? int.Parse(args[1], s_text) : 768;
        int seeds = args.Length > 2 ? int.Parse(args[2], s_text) : 4;
        string output = args.Length > 3 ? args[3] : "bench/results/claims.md";
        set_num_threads(1);
        var clock = Stopwatch.StartNew();

        using TinyShakespeare shakespeare = await TinyShakespeare.PrepareBytesAsync();

        Source[] sources =
        [
            new("synthetic", new DataSpec { Synthetic = new SyntheticSpec { Vocab = 32, Order = 2 } },
                new ModelSpec { Layers = 1, Dim = 32, Heads = 2, Context = 32 }, BatchSize: 16),
            new("tiny Shakespeare (bytes)", new DataSpec { Shards = shakespeare.Shards, Tokenizer = TokenizerNames.Bytes },
                new ModelSpec { Type = ModelSpec.Llama, Layers = 1, Dim = 32, Heads = 2, Context = 32 }, BatchSize: 16),
        ];

        var report = new StringBuilder();
        var claims = new StringBuilder();
        foreach (Source source in sources)
        {
            IReadOnlyList<Arm> arms = ComparisonGrid.Arms(K, Warmup);
            var trials = new List<Trial>();
            async Task<Trial> Run(Arm arm, double lr, double outerLr, int seed)
            {
                Trial trial = await TrialRunner.RunAsync(source, arm, Warmup, localSteps, lr, outerLr, seed);
                trials.Add(trial);
                Console.WriteLine(Arm.F($"[{clock.Elapsed:hh\\:mm\\:ss}] {source.Name} | {arm.Name} | lr {lr:G3} outer {outerLr:G3} seed {seed}: validation {trial.ValidationScore:0.0000} test {trial.TestScore:0.0000} ({trial.Seconds:0} s)"));
                return trial;
            }

            // 1. Sweep every tuned arm on the validation stream, seed 1.
            var best = new Dictionary<string, (double Lr, double OuterLr)>();
            foreach (Arm arm in arms.Where(a => a.Tuned))
            {
                var sweep = new List<Trial>();
                foreach (double lr in LearningRates)
                {
                    foreach (double outerLr in arm.HasOuterLr ? OuterLearningRates : [double.NaN])
                    {
                        sweep.Add(await Run(arm, lr, outerLr, seed: 1));
                    }
                }

                Trial winner = sweep.Where(t => double.IsFinite(t.Validation)).MinBy(t => t.Validation) ?? sweep[0];
                best[arm.Family] = (winner.LearningRate, winner.OuterLr);
            }

            // 2. Every arm at its family's rates on every seed, scored on the test stream (seed 1 of a tuned arm is its sweep's run).
            var finals = new Dictionary<Arm, List<Trial>>();
            foreach (Arm arm in arms)
            {
                (double lr, double outerLr) = best[arm.Family];
                var runs = new List<Trial>();
                for (int seed = 1; seed <= seeds; seed++)
                {
                    Trial? done = trials.FirstOrDefault(t => t.Arm == arm && t.Seed == seed && t.LearningRate == lr && t.OuterLr.Equals(outerLr));
                    runs.Add(done ?? await Run(arm, lr, outerLr, seed));
                }

                finals[arm] = runs;
            }

            report.Append(Table(source, arms, finals, best, localSteps, seeds));
            string plot = Path.Combine(Path.GetDirectoryName(output)!, $"claims-{Slug(source.Name)}-pareto.png");
            ParetoPlot(plot, source, finals);
            report.AppendLine(Arm.F($"Pareto plot: `{Path.GetFileName(plot)}` (test score against cross-site bytes per replica, mean over seeds, bars: 95 % interval)."));
            report.AppendLine();
            claims.Append(Claims(source, arms, finals));
        }

        string intro = Arm.F($"""
            Every run: {Source.Replicas} replicas in one process (in-memory collective, ring byte accounting), CPU, 1 thread; a DDP warm-up of {Warmup} steps for every local method (its gradient bytes counted apart), then {localSteps} local steps (PALSGD: stretched to the same expected gradient steps, rounded up to an outer round; the tokens column counts what each run drew); AdamW, cosine schedule with 20 warm-up steps, clip 1.0. Learning rates: for each tuned method the best of inner {string.Join(", ", LearningRates.Select(l => l.ToString("G3", s_text)))} (x outer {string.Join(", ", OuterLearningRates.Select(l => l.ToString("G3", s_text)))} for outer-optimizer methods) by validation loss at seed 1; variants (other periods, parameters only, compressed) take their family's. Scores on the test stream (held-out batches {Source.EvalBatches}..{2 * Source.EvalBatches - 1}, disjoint from the validation batches 0..{Source.EvalBatches - 1}), {seeds} seeds, mean ± t(0.975, n−1)·s/√n; differences are paired by seed (same initial model and batches). Margin, fixed before running: ±{MarginNats} nats. The run took {clock.Elapsed.TotalMinutes:0} minutes.

            ## Claims

            {claims}
            """);
        await ResultsFile.WriteAsync(output, "The papers' claims, measured: tuned, seeded, at equal tokens",
            Arm.F($"bash bench/claims.sh {localSteps} {seeds}"), intro + "\n" + report);
        return 0;
    }

    private static string Slug(string name) => name.Split(' ')[0].ToLowerInvariant();

    private static string Table(Source source, IReadOnlyList<Arm> arms, Dictionary<Arm, List<Trial>> finals,
        Dictionary<string, (double Lr, double OuterLr)> best, int localSteps, int seeds)
    {
        Arm reference = arms.First(a => a.Family == "Local Adam" && a.Period == K);
        string metric = finals[reference][0].Floor is { } floor ? Arm.F($"excess loss over the entropy floor {floor:0.0000}") : "loss (nats per byte)";
        var table = new StringBuilder();
        table.AppendLine(Arm.F($"## {source.Name}: {source.Model.Type} {source.Model.Layers}x{source.Model.Dim}, context {source.Model.Context}, batch {source.BatchSize} per replica; test {metric}"));
        table.AppendLine();
        table.AppendLine("| arm | lr (outer) | cross-site bytes / replica | of which warm-up | reduction vs DDP (all steps) | tokens | test score | paired diff to " + reference.Name + " |");
        table.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (Arm arm in arms)
        {
            List<Trial> runs = finals[arm];
            (double lr, double outerLr) = best[arm.Family];
            double bytes = runs.Average(t => t.BytesPerReplica);
            double reduction = runs.Average(t => t.DdpBytesPerReplica) / bytes;
            Interval score = Interval.Of([.. runs.Select(t => t.TestScore)]);
            string diff = arm == reference ? "-" : Interval.Paired([.. runs.Select(t => t.TestScore)], [.. finals[reference].Select(t => t.TestScore)]).ToString();
            string rates = (double.IsNaN(outerLr) ? Arm.F($"{lr:G3}") : Arm.F($"{lr:G3} ({outerLr:G3})")) + (OnEdge(lr, outerLr) ? " †" : "");
            table.AppendLine(Arm.F($"| {arm.Name} | {rates} | {ByteFormat.Bytes((long)bytes)} | {ByteFormat.Bytes((long)runs.Average(t => t.WarmupBytesPerReplica))} | {ByteFormat.Factor(reduction)} | {runs.Average(t => (double)t.Tokens):N0} | {score.Mean:0.0000} ± {score.HalfWidth:0.0000} | {diff} |"));
        }

        table.AppendLine();
        table.AppendLine("† a chosen rate at the edge of its grid: the sweep may not have found that method's best.");
        table.AppendLine();
        return table.ToString();
    }

    private static string Claims(Source source, IReadOnlyList<Arm> arms, Dictionary<Arm, List<Trial>> finals)
    {
        double[] Scores(Func<Arm, bool> pick) => [.. finals[arms.First(pick)].Select(t => t.TestScore)];
        double Bytes(Func<Arm, bool> pick) => finals[arms.First(pick)].Average(t => t.MethodBytesPerReplica);
        bool IsBase(Arm a, string family) => a.Family == family && a.Period == K && a.Compression == SyncSpec.NoCompression && !a.Name.StartsWith("parameters", StringComparison.Ordinal);

        double[] localAdam = Scores(a => IsBase(a, "Local Adam"));
        double[] localAdam2K = Scores(a => a.Family == "Local Adam" && a.Period == 2 * K);
        double[] desloc = Scores(a => IsBase(a, "DES-LOC"));
        double[] paramsOnly = Scores(a => a.Name.StartsWith("parameters", StringComparison.Ordinal));
        double[] diloco = Scores(a => IsBase(a, "DiLoCo"));
        double[] diloco4K = Scores(a => a.Family == "DiLoCo" && a.Period == 4 * K);
        double[] palsgd = Scores(a => a.Family == "PALSGD");
        double[] dct = Scores(a => a.Family == "DCT momentum");
        double[] deslocBf16 = Scores(a => a.Family == "DES-LOC" && a.Compression == SyncSpec.Bf16Compression);

        var text = new StringBuilder();
        void Claim(string claim, Interval diff, bool reproduced, string detail) =>
            text.AppendLine(Arm.F($"- {source.Name}: {claim}: **{(reproduced ? "reproduced" : "not reproduced")}**; {detail}"));

        Interval deslocVsLa = Interval.Paired(desloc, localAdam);
        Interval ablation = Interval.Paired(paramsOnly, desloc);
        double byteRatio = Bytes(a => IsBase(a, "Local Adam")) / Bytes(a => IsBase(a, "DES-LOC"));
        Claim(Arm.F($"DES-LOC (Kx={K}) matches Local Adam (K={K}) with {byteRatio:0.00}x fewer bytes, and averaging parameters only is worse"),
            deslocVsLa, deslocVsLa.Inside(MarginNats) && ablation.Low > 0,
            Arm.F($"DES-LOC − Local Adam {deslocVsLa} (inside ±{MarginNats}: {Yes(deslocVsLa.Inside(MarginNats))}); parameters only − DES-LOC {ablation} (above 0: {Yes(ablation.Low > 0)})"));

        Interval equalBytes = Interval.Paired(desloc, localAdam2K);
        Claim(Arm.F($"at equal bytes DES-LOC (Kx={K}) is no worse than Local Adam (K={2 * K})"), equalBytes, equalBytes.High < MarginNats,
            Arm.F($"DES-LOC − Local Adam K={2 * K} {equalBytes} (below +{MarginNats}: {Yes(equalBytes.High < MarginNats)})"));

        Interval palsgdVsDiloco = Interval.Paired(palsgd, diloco);
        Claim(Arm.F($"PALSGD (H={K}) is no worse than DiLoCo (H={K}) at equal tokens"), palsgdVsDiloco, palsgdVsDiloco.High < MarginNats,
            Arm.F($"PALSGD − DiLoCo {palsgdVsDiloco} (below +{MarginNats}: {Yes(palsgdVsDiloco.High < MarginNats)}; better, interval below 0: {Yes(palsgdVsDiloco.High < 0)})"));

        Interval dctVsDiloco4K = Interval.Paired(dct, diloco4K);
        double dctRatio = Bytes(a => IsBase(a, "DiLoCo")) / Bytes(a => a.Family == "DCT momentum");
        Claim(Arm.F($"DCT momentum (H={K}) sends {dctRatio:0.0}x fewer bytes than DiLoCo at equal H and is no worse than DiLoCo at 4x the period (the paper: between DiLoCo-128 and -512)"),
            dctVsDiloco4K, dctVsDiloco4K.High < MarginNats,
            Arm.F($"DCT − DiLoCo H={4 * K} {dctVsDiloco4K}; DCT − DiLoCo H={K} {Interval.Paired(dct, diloco)}"));

        Interval bf16 = Interval.Paired(deslocBf16, desloc);
        Claim("bf16 exchanges cost DES-LOC no loss", bf16, bf16.Inside(MarginNats), Arm.F($"bf16 − float32 {bf16}, at half the bytes"));
        Interval int8 = Interval.Paired(Scores(a => a.Compression == SyncSpec.Int8Compression), diloco);
        double int8Ratio = Bytes(a => IsBase(a, "DiLoCo")) / Bytes(a => a.Compression == SyncSpec.Int8Compression);
        Claim("int8 pseudo-gradients with error feedback cost DiLoCo no loss", int8, int8.Inside(MarginNats), Arm.F($"int8 − float32 {int8}, at {int8Ratio:0.0}x fewer bytes"));

        return text.ToString();
    }

    private static bool OnEdge(double lr, double outerLr) =>
        lr == LearningRates[0] || lr == LearningRates[^1] || (!double.IsNaN(outerLr) && (outerLr == OuterLearningRates[0] || outerLr == OuterLearningRates[^1]));

    private static string Yes(bool value) => value ? "yes" : "no";

    private static void ParetoPlot(string path, Source source, Dictionary<Arm, List<Trial>> finals)
    {
        var points = finals.Select(f =>
        {
            Interval score = Interval.Of([.. f.Value.Select(t => t.TestScore)]);
            return (f.Key.Name, Bytes: f.Value.Average(t => t.BytesPerReplica), score.Mean, score.HalfWidth);
        }).ToArray();
        DesLoc.Bench.Claims.Plots.Points(path, Arm.F($"{source.Name}: test score against bytes sent (lower left is better)"),
            "cross-site bytes per replica", finals.First().Value[0].Floor is null ? "test loss" : "test excess loss", points);
    }
}
