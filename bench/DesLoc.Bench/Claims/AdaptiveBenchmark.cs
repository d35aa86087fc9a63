using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using DesLoc.Operator.Adaptive;
using DesLoc.Operator.Api.Resources;
using DesLoc.Sync.Accounting;
using DesLoc.Sync.Algorithms;
using DesLoc.Sync.State;
using DesLoc.Trainer.Training;
using static TorchSharp.torch;

namespace DesLoc.Bench.Claims;

/// <summary>
/// <c>adaptive [steps] [seeds] [output]</c>: the adaptive controller's two DES-LOC policies after a link drop, theory
/// (kv, then ku, then kx) against uniform (every period alike), compared at equal bytes. Training is real (4 in-process
/// replicas on tiny Shakespeare); the link is modelled: each step costs <see cref="ComputeSeconds"/> of compute plus
/// the payload it synced over a bandwidth that drops tenfold at <see cref="DropStep"/>. Every replica runs the
/// controller's pure decision on that modelled comm fraction, judged as the operator does (a window of at least two
/// rounds of kx, no change while one is pending) and applied at its switch step, so the runs differ only in the policy.
/// </summary>
internal static class AdaptiveBenchmark
{
    private static readonly CultureInfo s_text = CultureInfo.InvariantCulture;

    private const double ComputeSeconds = 0.05;
    private const double FastModelSeconds = 0.04;   // one model's payload on the fast link: Kx = 4 (12, 24) starts inside the band
    private const double Drop = 10;
    private const int DropStep = 64;
    private const int JudgeEverySteps = 32;
    private const int EvalEverySteps = 32;

    private static AdaptiveSyncSpec Policy(string policy) => new()
    {
        Enabled = true, Policy = policy, TargetCommFraction = 0.25, Hysteresis = 0.3, MinPeriod = 2, MaxPeriod = 4096, SwitchAfterPeriods = 1,
    };

    public static async Task<int> RunAsync(string[] args)
    {
        int steps = args.Length > 1 ? int.Parse(args[1], s_text) : 512;
        int seeds = args.Length > 2 ? int.Parse(args[2], s_text) : 2;
        string output = args.Length > 3 ? args[3] : "bench/results/adaptive.md";
        using TinyShakespeare shakespeare = await TinyShakespeare.PrepareBytesAsync();
        string shards = shakespeare.Shards;

        string[] policies = [AdaptiveSyncSpec.Theory, AdaptiveSyncSpec.Uniform];
        var runs = new Dictionary<(string Policy, int Seed), Run>();
        for (int seed = 1; seed <= seeds; seed++)
        {
            foreach (string policy in policies)
            {
                runs[(policy, seed)] = await RunOneAsync(shards, policy, steps, seed);
                Run run = runs[(policy, seed)];
                Console.WriteLine(string.Create(s_text,
                    $"seed {seed} {policy}: held-out loss {run.FinalLoss:0.0000}, {ByteFormat.Bytes(run.Bytes)}, modelled {run.ModelledSeconds:0} s, periods {Show(run.FinalPeriods)}"));
            }
        }

        var table = new StringBuilder();
        table.AppendLine(string.Create(s_text,
            $"tiny Shakespeare as bytes, llama 2 layers x 64 (4 heads, 2 kv heads, context 64), 4 in-process replicas x batch 16, AdamW lr 3e-3 (b1 0.9), {steps} steps, {seeds} seeds; DES-LOC Kx=4 (12, 24) to start. The link is modelled, not emulated: a step costs {ComputeSeconds * 1000:0} ms of compute plus its synced payload over the link; one model's payload takes {FastModelSeconds * 1000:0} ms until step {DropStep}, then {FastModelSeconds * Drop * 1000:0} ms ({Drop:0}x slower). `sync.adaptive`: target comm fraction 0.25, hysteresis 0.3, periods 2..4096, judged every {JudgeEverySteps} steps (at least two rounds of kx), switch after 1 period. Held-out loss over 320 windows every {EvalEverySteps} steps, averaged over the replicas; bytes are payload per replica."));
        table.AppendLine();
        table.AppendLine("| policy | final held-out loss | bytes / replica | modelled time | loss at matched bytes | periods at the end |");
        table.AppendLine("|---|---:|---:|---:|---:|---:|");
        var matchedGaps = new List<double>();
        var finalGaps = new List<double>();
        var matched = new Dictionary<(string, int), double>();
        for (int seed = 1; seed <= seeds; seed++)
        {
            long common = Math.Min(runs[(AdaptiveSyncSpec.Theory, seed)].Bytes, runs[(AdaptiveSyncSpec.Uniform, seed)].Bytes);
            foreach (string policy in policies)
            {
                matched[(policy, seed)] = runs[(policy, seed)].LossAtBytes(common);
            }

            matchedGaps.Add(matched[(AdaptiveSyncSpec.Theory, seed)] - matched[(AdaptiveSyncSpec.Uniform, seed)]);
            finalGaps.Add(runs[(AdaptiveSyncSpec.Theory, seed)].FinalLoss - runs[(AdaptiveSyncSpec.Uniform, seed)].FinalLoss);
        }

        foreach (string policy in policies)
        {
            Run[] own = [.. Enumerable.Range(1, seeds).Select(s => runs[(policy, s)])];
            table.AppendLine(string.Create(s_text,
                $"| {policy} | {Interval([.. own.Select(r => r.FinalLoss)])} | {ByteFormat.Bytes((long)own.Average(r => r.Bytes))} | {own.Average(r => r.ModelledSeconds):0} s | {Interval([.. Enumerable.Range(1, seeds).Select(s => matched[(policy, s)])])} | {Show(own[0].FinalPeriods)} |"));
        }

        table.AppendLine();
        table.AppendLine(string.Create(s_text,
            $"Theory − uniform, paired by seed: final held-out loss {Interval([.. finalGaps])}; at matched bytes (each run's loss-vs-bytes curve interpolated at the smaller of the two totals) {Interval([.. matchedGaps])}. Intervals: mean ± t(0.975, n−1)·s/√n over seeds; the periods column is seed 1's. The final loss is at equal steps; at matched bytes the run that sent more is read at an earlier step, still on its way down, so that figure mixes the policy with fewer steps."));
        table.AppendLine();
        foreach (string policy in policies)
        {
            table.AppendLine(string.Create(s_text, $"Period changes, {policy}, seed 1 (step applied: kx, ku, kv):"));
            table.AppendLine();
            foreach ((long step, IReadOnlyDictionary<string, int> periods) in runs[(policy, 1)].Changes)
            {
                table.AppendLine(string.Create(s_text, $"- {step}: {Show(periods)}"));
            }

            table.AppendLine();
        }

        string plot = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(output))!, "adaptive.png");
        Plots.Lines(plot, $"After a {Drop:0}x link drop at step {DropStep}: held-out loss against bytes (seed 1)", "payload bytes sent per replica (MB)", "held-out loss",
            policies.Select(p => (p, runs[(p, 1)].Curve.Select(c => c.Bytes / 1e6).ToArray(), runs[(p, 1)].Curve.Select(c => c.Loss).ToArray())));
        table.AppendLine("Plot: `adaptive.png` (held-out loss against bytes, seed 1).");
        await ResultsFile.WriteAsync(output, "Adaptive sync after a link drop: theory against uniform at equal bytes",
            string.Create(s_text, $"bash bench/adaptive.sh {steps} {seeds}"), table.ToString());
        return 0;
    }

    private static async Task<Run> RunOneAsync(string shards, string policy, int steps, int seed)
    {
        JobSpec spec = new()
        {
            Replicas = Workload.Replicas,
            Model = new ModelSpec { Type = ModelSpec.Llama, Layers = 2, Dim = 64, Heads = 4, KvHeads = 2, Context = 64 },
            Data = new DataSpec { Shards = shards, Tokenizer = TokenizerNames.Bytes },
            Training = new TrainingSpec
            {
                Steps = steps, BatchSize = 16, LearningRate = 3e-3, WarmupSteps = 30, Seed = seed, EvalBatches = 20, EvalEverySteps = EvalEverySteps,
            },
            Algorithm = new AlgorithmSpec { Type = AlgorithmType.DESLOC, Desloc = new DesLocSettings { Kx = 4 } },
        };
        var controllers = new List<ModelledLink>();
        StrategyFactory factory = (collective, parameterCount) =>
        {
            var controller = new ModelledLink(
                SyncStrategies.Create(spec.Algorithm, collective, parameterCount, (ulong)seed), Policy(policy), spec.Training.Beta1, parameterCount * sizeof(float));
            lock (controllers)
            {
                controllers.Add(controller);
            }

            return controller;
        };
        using var job = new InProcessJob(spec, CPU, factory);
        var losses = new ConcurrentDictionary<(int Rank, long Step), double>();
        foreach (ReplicaTrainer replica in job.Replicas)
        {
            replica.Evaluated += e => losses[(replica.Rank, e.Step)] = e.Loss;
        }

        JobResult result = await job.RunAsync(CancellationToken.None);
        ModelledLink first = controllers[0];
        (long Bytes, double Loss)[] curve =
        [
            .. losses.Keys.Select(k => k.Step).Distinct().Order().Select(step => (first.BytesAfter(step), losses.Where(l => l.Key.Step == step).Average(l => l.Value))),
            (first.BytesAfter(steps), result.MeanEvalLoss),
        ];
        return new Run(curve, result.MeanEvalLoss, first.BytesAfter(steps), first.ModelledSeconds, first.Changes);
    }

    /// <summary>One run: held-out loss against payload bytes sent per replica, and the period changes as applied.</summary>
    private sealed record Run(
        (long Bytes, double Loss)[] Curve, double FinalLoss, long Bytes, double ModelledSeconds, IReadOnlyList<(long Step, IReadOnlyDictionary<string, int> Periods)> Changes)
    {
        public IReadOnlyDictionary<string, int>? FinalPeriods => Changes.Count > 0 ? Changes[^1].Periods : null;

        /// <summary>The loss where the run had sent <paramref name="bytes"/>, linear between the evaluations around it.</summary>
        public double LossAtBytes(long bytes)
        {
            for (int i = 1; i < Curve.Length; i++)
            {
                if (Curve[i].Bytes >= bytes)
                {
                    (long b0, double l0) = Curve[i - 1];
                    (long b1, double l1) = Curve[i];
                    return b1 == b0 ? l1 : l0 + ((l1 - l0) * (bytes - b0) / (b1 - b0));
                }
            }

            return Curve[^1].Loss;
        }
    }

    /// <summary>
    /// A replica's DES-LOC with the adaptive controller on a modelled link. Every replica sends the same payload, so
    /// each reaches the same decisions at the same steps, as the operator's change would have every replica switch.
    /// </summary>
    private sealed class ModelledLink(ISyncStrategy inner, AdaptiveSyncSpec policy, double beta1, long modelBytes) : ISyncStrategy
    {
        private readonly List<long> _bytesAfterStep = [0];
        private readonly List<(long Step, IReadOnlyDictionary<string, int> Periods)> _changes = [];
        private long _windowStart;
        private double _windowCommSeconds;
        private PeriodChange? _pending;

        public double ModelledSeconds { get; private set; }

        public IReadOnlyList<(long Step, IReadOnlyDictionary<string, int> Periods)> Changes => _changes;

        public long BytesAfter(long step) => _bytesAfterStep[(int)Math.Min(step, _bytesAfterStep.Count - 1)];

        public CommunicationLedger Ledger => inner.Ledger;

        public IReadOnlyDictionary<string, int> Periods => inner.Periods;

        public void Initialize(IReplicaState replica) => inner.Initialize(replica);

        public StepPlan Plan(long step) => inner.Plan(step);

        public ValueTask AfterBackwardAsync(long step, IReplicaState replica, CancellationToken cancellationToken) => inner.AfterBackwardAsync(step, replica, cancellationToken);

        public void PseudoSync(long step, double learningRate, IReplicaState replica) => inner.PseudoSync(step, learningRate, replica);

        public bool ExchangesAt(long step, SyncPhase phase) => inner.ExchangesAt(step, phase);

        public long? LandsAt => inner.LandsAt;

        public ValueTask LandAsync(IReplicaState replica, CancellationToken cancellationToken) => inner.LandAsync(replica, cancellationToken);

        public void ExportState(StateBundle bundle) => inner.ExportState(bundle);

        public void ImportState(StateBundle bundle) => inner.ImportState(bundle);

        public string? CheckPeriods(IReadOnlyDictionary<string, int> periods) => inner.CheckPeriods(periods);

        public void SetPeriods(IReadOnlyDictionary<string, int> periods) => inner.SetPeriods(periods);

        public async ValueTask AfterStepAsync(long step, IReplicaState replica, CancellationToken cancellationToken)
        {
            long before = inner.Ledger.TotalPayloadBytes;
            await inner.AfterStepAsync(step, replica, cancellationToken);
            long sent = inner.Ledger.TotalPayloadBytes - before;
            double modelSeconds = step < DropStep ? FastModelSeconds : FastModelSeconds * Drop;
            double comm = sent * modelSeconds / modelBytes;
            _windowCommSeconds += comm;
            ModelledSeconds += ComputeSeconds + comm;
            _bytesAfterStep.Add(inner.Ledger.TotalPayloadBytes);

            if (_pending is { } change)
            {
                if (step + 1 >= change.SwitchStep)
                {
                    inner.SetPeriods(change.Periods);
                    _changes.Add((step + 1, change.Periods));
                    _pending = null;
                    (_windowStart, _windowCommSeconds) = (step, 0);
                }

                return;
            }

            long window = step - _windowStart;
            if (window >= Math.Max(JudgeEverySteps, 2L * inner.Periods["params"]))
            {
                double fraction = _windowCommSeconds / (_windowCommSeconds + (window * ComputeSeconds));
                _pending = AdaptiveSync.Decide(policy, AlgorithmType.DESLOC, beta1, inner.Periods, fraction, step);
                (_windowStart, _windowCommSeconds) = (step, 0);
            }
        }
    }

    private static string Show(IReadOnlyDictionary<string, int>? periods) =>
        periods is null ? "(4, 12, 24)" : string.Create(s_text, $"({periods["params"]}, {periods["m1"]}, {periods["m2"]})");

    private static string Interval(double[] values) => Bench.Interval.Of(values).Plain();
}
