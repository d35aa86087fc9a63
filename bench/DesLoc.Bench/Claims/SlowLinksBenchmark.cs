using System.Globalization;
using System.Text;
using DesLoc.Trainer.Training;

namespace DesLoc.Bench.Claims;

/// <summary>
/// <c>slow-links STEPS OUTPUT RATE... [--overlap D]</c> (run by bench/slow-links.sh inside the namespaces of bench/netns.sh): DDP,
/// DES-LOC, DiLoCo and PALSGD with every replica's link shaped to each rate in turn; wall time to a target loss. With
/// --overlap, DES-LOC and DiLoCo also run with their syncs overlapping the next D steps, blocking against overlapped.
/// </summary>
internal static class SlowLinksBenchmark
{
    private static readonly CultureInfo s_text = CultureInfo.InvariantCulture;

    /// <summary>The larger synthetic workload: 2 layers of 64 (106k parameters), so a DDP step moves about 0.6 MB per replica.</summary>
    public static Workload LinkWorkload(int steps) =>
        new("synthetic", "synthetic:\n  vocab: 16\n  order: 2", Layers: 2, Dim: 64, Context: 64, steps, LearningRate: 0.003);

    public static async Task<int> RunAsync(string[] args)
    {
        int steps = int.Parse(args[1], s_text);
        string output = args[2];
        // --overlap D adds DES-LOC and DiLoCo rows whose syncs stay in flight for D steps (sync.overlapSteps);
        // --delay MS says the namespaces are behind the delay line with that one-way time (bench/netns.sh up MS).
        var options = new Dictionary<string, int>();
        var rest = new List<string>();
        for (int i = 3; i < args.Length; i++)
        {
            if (args[i].StartsWith("--", StringComparison.Ordinal))
            {
                options[args[i]] = int.Parse(args[++i], s_text);
            }
            else
            {
                rest.Add(args[i]);
            }
        }

        int? overlap = options.TryGetValue("--overlap", out int inFlightSteps) ? inFlightSteps : null;
        int? delay = options.TryGetValue("--delay", out int oneWay) ? oneWay : null;
        string[] rates = rest.Count > 0 ? [.. rest] : ["1gbit", "50mbit", "10mbit"];
        if (!Namespaces.Present())
        {
            Console.Error.WriteLine("No desloc-r* namespaces: run bench/slow-links.sh (as root).");
            return 1;
        }

        Workload workload = LinkWorkload(steps);
        Method[] methods = overlap is { } inFlight
            ? [Method.Ddp(), Method.DesLoc(16), Method.DesLoc(16).Overlapped(inFlight), Method.DiLoCo(16), Method.DiLoCo(16).Overlapped(inFlight), Method.Palsgd(16)]
            : [Method.Ddp(), Method.DesLoc(16), Method.DiLoCo(16), Method.Palsgd(16)];
        var runs = new List<(string Rate, RunOutcome Run)>();
        foreach (string rate in rates)
        {
            await Namespaces.SetRateAsync(rate);
            foreach (Method method in methods)
            {
                string name = "sl-" + new string([.. method.Family.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit)]) + (method.OverlapSteps is null ? "" : "-overlap");
                RunOutcome run = await LocalJobRun.RunAsync(workload.Job(method, name), method, Namespaces.Network);
                runs.Add((rate, run));
                Console.WriteLine(string.Create(s_text,
                    $"{rate,-7} {method.Name,-24} {run.Phase,-9} step {run.Last.Step,5} loss {run.Last.Loss:0.000} held-out {run.HeldOutLoss:0.000} training {run.TrainingSeconds:0.0} s"));
            }
        }

        // The target every run reaches: the worst final running loss on the fastest link, plus a small margin.
        double target = Math.Round(runs.Where(r => r.Rate == rates[0]).Max(r => r.Run.Last.Loss ?? double.NaN) + 0.02, 2);
        var table = new StringBuilder();
        table.AppendLine(string.Create(s_text,
            $"{workload.Describe()}; each replica in its own network namespace (bench/netns.sh), {(delay is { } ms ? $"every packet delayed {ms} ms one way ({2 * ms} ms round trip) by the delay line" : "joined by veth pairs to a bridge")}, its outgoing link shaped with `tc qdisc tbf`. Target loss {target:0.00} (rank 0's running training loss): the worst final loss on the {rates[0]} link plus 0.02, so every method can reach it. Times are from the first trained step."));
        table.AppendLine();
        table.AppendLine("| link | method | bytes sent / replica | time to target | vs DDP (same link) | training time | steps/s | held-out loss |");
        table.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|");
        var claims = new List<string>();
        foreach (string rate in rates)
        {
            RunOutcome ddp = runs.First(r => r.Rate == rate && r.Run.Method.Family == "DDP").Run;
            double? ddpTime = ddp.SecondsTo(target);
            foreach ((_, RunOutcome run) in runs.Where(r => r.Rate == rate))
            {
                double? time = run.SecondsTo(target);
                string speedup = time is { } t && ddpTime is { } d ? (d / t).ToString("0.00", s_text) + "x" : "";
                table.AppendLine(string.Create(s_text,
                    $"| {rate} | {run.Method.Name} | {ByteFormat.Bytes(run.Last.BytesSent)} | {(time is { } s ? s.ToString("0.0", s_text) + " s" : "not reached")} | {speedup} | {run.TrainingSeconds:0.0} s | {run.Last.Step / Math.Max(run.TrainingSeconds, 1e-9):0.0} | {run.HeldOutLoss:0.000} |"));
            }

            RunOutcome palsgd = runs.First(r => r.Rate == rate && r.Run.Method.Family == "PALSGD").Run;
            double? palsgdTime = palsgd.SecondsTo(target);
            bool faster = palsgdTime is { } p && (ddpTime is null || p < ddpTime);
            claims.Add(string.Create(s_text,
                $"- PALSGD faster to the target loss than DDP on a {rate} link: **{(faster ? "reproduced" : "not reproduced")}**, {Seconds(palsgdTime)} vs {Seconds(ddpTime)}"));
            foreach (RunOutcome overlapped in runs.Where(r => r.Rate == rate && r.Run.Method.OverlapSteps is not null).Select(r => r.Run))
            {
                RunOutcome blocking = runs.First(r => r.Rate == rate && r.Run.Method.Family == overlapped.Method.Family && r.Run.Method.OverlapSteps is null).Run;
                double? hidden = overlapped.SecondsTo(target);
                double? blocked = blocking.SecondsTo(target);
                bool sooner = hidden is { } h && (blocked is null || h < blocked);
                claims.Add(string.Create(s_text,
                    $"- {overlapped.Method.Name} reaches the target sooner than blocking on a {rate} link: **{(sooner ? "yes" : "no")}**, {Seconds(hidden)} vs {Seconds(blocked)} (training {overlapped.TrainingSeconds:0.0} s vs {blocking.TrainingSeconds:0.0} s)"));
            }
        }

        table.AppendLine();
        table.AppendLine("### Claims");
        table.AppendLine();
        foreach (string claim in claims)
        {
            table.AppendLine(claim);
        }

        await ResultsFile.WriteAsync(output, "Slow links: time to a target loss", "sudo bash bench/slow-links.sh " + string.Join(" ", args[1..].Where(a => a != output)), table.ToString());
        return 0;
    }

    private static string Seconds(double? seconds) => seconds is { } s ? s.ToString("0.0", s_text) + " s" : "not reached";
}
