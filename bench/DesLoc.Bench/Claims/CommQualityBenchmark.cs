using System.Globalization;
using System.Text;
using DesLoc.Trainer.Training;

namespace DesLoc.Bench.Claims;

/// <summary>
/// <c>comm-quality STEPS OUTPUT [TEXT]</c>: every method as 4 real replica processes through the operator's local
/// backend, equal steps and tokens; bytes per replica, reduction vs DDP, held-out loss, gaps, wall time; on the
/// synthetic source and (when given) a text file; the papers' communication claims checked against the figures;
/// loss-vs-bytes and loss-vs-time plots beside the table.
/// </summary>
internal static class CommQualityBenchmark
{
    private static readonly CultureInfo s_text = CultureInfo.InvariantCulture;

    /// <summary>One full DES-LOC round at Kx = 256 (Kv = 1536): the step count at which its byte ratio is exact.</summary>
    private const int FullRound256 = 1536;

    public static async Task<int> RunAsync(string[] args)
    {
        int steps = args.Length > 1 ? int.Parse(args[1], s_text) : 384;
        string output = args.Length > 2 ? args[2] : "bench/results/comm-quality.md";
        string? textPath = args.Length > 3 ? args[3] : null;
        int[] periods = [16, 64];
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);

        var body = new StringBuilder();
        var claims = new List<string>();
        var workloads = new List<Workload> { Workload.Synthetic(steps) };
        if (textPath is not null)
        {
            workloads.Add(Workload.Text(textPath, steps));
        }

        foreach (Workload workload in workloads)
        {
            var methods = new List<Method> { Method.Ddp() };
            foreach (int k in periods)
            {
                methods.AddRange([Method.LocalAdam(k), Method.DesLoc(k), Method.DiLoCo(k), Method.Palsgd(k), Method.Dct(k)]);
            }

            var runs = new List<RunOutcome>();
            foreach (Method method in methods)
            {
                runs.Add(await RunOneAsync(workload, method, steps));
            }

            body.AppendLine(string.Create(s_text, $"## {workload.Describe()}"));
            body.AppendLine();
            AppendTable(body, runs);
            string stem = Path.Combine(Path.GetDirectoryName(output)!, "comm-quality-" + workload.Name);
            PlotCurves(stem, workload, runs);
            body.AppendLine(string.Create(s_text, $"Plots: `{Path.GetFileName(stem)}-loss-vs-bytes.png`, `{Path.GetFileName(stem)}-loss-vs-time.png`."));
            body.AppendLine();
            claims.AddRange(CheckClaims(workload, runs, periods));
        }

        // The 170x claim is a byte count: one full Kv round at Kx = 256 on the synthetic source (Local Adam K = 256 beside it).
        Workload round = Workload.Synthetic(FullRound256);
        RunOutcome ddp256 = await RunOneAsync(round, Method.Ddp(), FullRound256);
        RunOutcome la256 = await RunOneAsync(round, Method.LocalAdam(256), FullRound256);
        RunOutcome desloc256 = await RunOneAsync(round, Method.DesLoc(256), FullRound256);
        body.AppendLine(string.Create(s_text, $"## Kx = 256, one full DES-LOC round: {round.Describe()}"));
        body.AppendLine();
        AppendTable(body, [ddp256, la256, desloc256]);
        double reduction256 = (double)desloc256.Last.DdpBytes / desloc256.Last.BytesSent;
        double half256 = (double)la256.Last.BytesSent / desloc256.Last.BytesSent;
        claims.Add(string.Create(s_text,
            $"- DES-LOC >= 170x fewer bytes than DDP at Kx = 256: **{Verdict(reduction256 >= 170)}**, {reduction256:0.0}x ({ByteFormat.Bytes(desloc256.Last.BytesSent)} vs {ByteFormat.Bytes(desloc256.Last.DdpBytes)} over {FullRound256} steps); Local Adam K = 256 sends {half256:0.00}x DES-LOC's bytes, held-out loss {la256.HeldOutLoss:0.000} vs DES-LOC {desloc256.HeldOutLoss:0.000}."));

        var text = new StringBuilder();
        text.AppendLine(string.Create(s_text,
            $"Each row is a LowCommJob run by the operator's local backend (`LocalRunner`): {Workload.Replicas} trainer processes on loopback (socket data plane), 1 torch thread each, CPU. Bytes are rank 0's counters (payload on the ring schedule, per replica); held-out loss is the mean of the replicas' own evaluations at the end; wall time is the whole run, process start included. Every method of a table runs the same steps on the same batches (equal tokens)."));
        text.AppendLine();
        text.AppendLine("### Claims");
        text.AppendLine();
        foreach (string claim in claims)
        {
            text.AppendLine(claim);
        }

        text.AppendLine();
        text.Append(body);
        await ResultsFile.WriteAsync(output, "Communication and quality: real replica processes",
            string.Create(s_text, $"bash bench/comm-quality.sh {steps}"), text.ToString());
        return 0;
    }

    private static async Task<RunOutcome> RunOneAsync(Workload workload, Method method, int steps)
    {
        string name = "cq-" + new string([.. method.Name.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit)]);
        RunOutcome run = await LocalJobRun.RunAsync(workload.Job(method, name, steps: steps), method);
        Console.WriteLine(string.Create(s_text,
            $"{workload.Name,-9} {method.Name,-28} {run.Phase,-9} step {run.Last.Step,5} sent {ByteFormat.Bytes(run.Last.BytesSent),10} held-out {run.HeldOutLoss:0.000} {run.Elapsed.TotalSeconds:0.0} s"));
        return run;
    }

    private static void AppendTable(StringBuilder table, IReadOnlyList<RunOutcome> runs)
    {
        RunOutcome ddp = runs.First(r => r.Method.Family == "DDP");
        table.AppendLine("| method | bytes sent / replica | reduction vs DDP | held-out loss | gap to DDP | gap to Local Adam (same period) | wall time | training time |");
        table.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (RunOutcome run in runs)
        {
            RunOutcome? localAdam = runs.FirstOrDefault(r => r.Method.Family == "Local Adam" && r.Method.Period == run.Method.Period);
            string gapLocal = localAdam is null || run.Method.Family is "DDP" or "Local Adam" ? "" : Gap(run.HeldOutLoss - localAdam.HeldOutLoss);
            double reduction = run.Last.BytesSent > 0 ? (double)run.Last.DdpBytes / run.Last.BytesSent : double.NaN;
            table.AppendLine(string.Create(s_text,
                $"| {run.Method.Name}{(run.Phase.ToString() == "Succeeded" ? "" : $" ({run.Phase})")} | {ByteFormat.Bytes(run.Last.BytesSent)} | {ByteFormat.Factor(reduction)} | {run.HeldOutLoss:0.000} | {Gap(run.HeldOutLoss - ddp.HeldOutLoss)} | {gapLocal} | {run.Elapsed.TotalSeconds:0.0} s | {run.TrainingSeconds:0.0} s |"));
        }

        table.AppendLine();
    }

    private static IEnumerable<string> CheckClaims(Workload workload, IReadOnlyList<RunOutcome> runs, int[] periods)
    {
        foreach (int k in periods)
        {
            RunOutcome localAdam = runs.First(r => r.Method.Family == "Local Adam" && r.Method.Period == k);
            RunOutcome desloc = runs.First(r => r.Method.Family == "DES-LOC" && r.Method.Period == k);
            double ratio = (double)localAdam.Last.BytesSent / desloc.Last.BytesSent;
            double gap = (desloc.HeldOutLoss - localAdam.HeldOutLoss) / localAdam.HeldOutLoss;
            // "Similar loss": within 2% of Local Adam's held-out loss.
            yield return string.Create(s_text,
                $"- {workload.Name}, K = {k}: DES-LOC 2x fewer bytes than Local Adam at similar loss: **{Verdict(ratio >= 1.95 && Math.Abs(gap) <= 0.02)}**, {ratio:0.00}x fewer bytes, held-out loss {desloc.HeldOutLoss:0.000} vs {localAdam.HeldOutLoss:0.000} ({gap:+0.0%;-0.0%;0.0%})");

            RunOutcome diloco = runs.First(r => r.Method.Family == "DiLoCo" && r.Method.Period == k);
            RunOutcome dct = runs.First(r => r.Method.Family == "DCT momentum" && r.Method.Period == k);
            double dctRatio = (double)diloco.Last.BytesSent / dct.Last.BytesSent;
            yield return string.Create(s_text,
                $"- {workload.Name}, H = {k}: DCT momentum several (>= 3) times fewer bytes than DiLoCo at equal H: **{Verdict(dctRatio >= 3)}**, {dctRatio:0.0}x ({ByteFormat.Bytes(dct.Last.BytesSent)} vs {ByteFormat.Bytes(diloco.Last.BytesSent)}); held-out loss {dct.HeldOutLoss:0.000} vs {diloco.HeldOutLoss:0.000}");
        }
    }

    private static void PlotCurves(string stem, Workload workload, IReadOnlyList<RunOutcome> runs)
    {
        var withLoss = runs.Select(r => (r.Method.Name, Samples: r.Samples.Where(s => s.Loss is not null && s.Step > 0).ToArray())).ToList();
        Plots.Lines(stem + "-loss-vs-bytes.png", $"Loss vs bytes sent per replica ({workload.Name})", "bytes sent per replica (log scale)", "training loss (rank 0, running mean)",
            withLoss.Select(r => (r.Name, r.Samples.Where(s => s.BytesSent > 0).Select(s => (double)s.BytesSent).ToArray(), r.Samples.Where(s => s.BytesSent > 0).Select(s => s.Loss!.Value).ToArray())),
            logX: true, xFormat: b => ByteFormat.Bytes((long)b));
        Plots.Lines(stem + "-loss-vs-time.png", $"Loss vs wall time ({workload.Name})", "seconds since the run started", "training loss (rank 0, running mean)",
            withLoss.Select(r => (r.Name, r.Samples.Select(s => s.Seconds).ToArray(), r.Samples.Select(s => s.Loss!.Value).ToArray())));
    }

    private static string Gap(double gap) => double.IsNaN(gap) ? "" : gap.ToString("+0.000;-0.000;0.000", s_text);

    private static string Verdict(bool reproduced) => reproduced ? "reproduced" : "not reproduced";
}
