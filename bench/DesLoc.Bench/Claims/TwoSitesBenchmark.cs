using System.Diagnostics;
using System.Globalization;
using System.Text;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Local;
using DesLoc.Trainer.Training;

namespace DesLoc.Bench.Claims;

/// <summary>
/// <c>two-sites STEPS OUTPUT</c> (run by bench/two-sites-bench.sh inside the namespaces of bench/two-sites.sh): four
/// workers on two sites joined by a slow link. Flat DDP over the four workers (a ring that crosses the link twice per
/// step) against 2 replicas x 2 workers (DDP inside a site every step, the algorithm between sites): bytes that
/// crossed the link, wall time, wall time to a target loss on DDP's curve, and the share of time in slow-tier rounds.
/// Every run trains on the same tokens per step (4 workers x batch 16).
/// </summary>
internal static class TwoSitesBenchmark
{
    private static readonly CultureInfo s_text = CultureInfo.InvariantCulture;

    private sealed record Shape(string Name, int Replicas, int Workers, Method Method);

    public static async Task<int> RunAsync(string[] args)
    {
        int steps = int.Parse(args[1], s_text);
        string output = args[2];
        string wan = args.Length > 3 ? args[3] : "unknown shaping";
        if (!File.Exists("/run/netns/desloc-site0") || !File.Exists("/run/netns/desloc-site1"))
        {
            Console.Error.WriteLine("No desloc-site* namespaces: run bench/two-sites-bench.sh (as root).");
            return 1;
        }

        Workload workload = SlowLinksBenchmark.LinkWorkload(steps);
        Shape[] shapes =
        [
            new("flat DDP, 4 workers", 4, 1, Method.Ddp()),
            new("2 x 2, DDP inside and between sites", 2, 2, Method.Ddp()),
            new("2 x 2, DES-LOC between sites", 2, 2, Method.DesLoc(16)),
            new("2 x 2, DiLoCo between sites", 2, 2, Method.DiLoCo(16)),
            new("2 x 2, DCT momentum between sites", 2, 2, Method.Dct(16)),
        ];
        var runs = new List<(Shape Shape, RunOutcome Run, long WanBytes)>();
        foreach (Shape shape in shapes)
        {
            // A site holds Replicas / 2 replicas, all their workers in its namespace.
            int perSite = shape.Replicas / 2;
            var network = new ReplicaNetwork(
                replica => string.Create(s_text, $"10.231.79.{(replica / perSite) + 1}"),
                "0.0.0.0",
                replica => ["ip", "netns", "exec", string.Create(s_text, $"desloc-site{replica / perSite}")]);
            LowCommJob job = Tiered(workload.Job(shape.Method, "ts-" + runs.Count.ToString(s_text)), shape);
            long before = await WanBytesAsync();
            RunOutcome run = await LocalJobRun.RunAsync(job, shape.Method, network);
            long crossed = await WanBytesAsync() - before;
            runs.Add((shape, run, crossed));
            Console.WriteLine(string.Create(s_text,
                $"{shape.Name,-40} {run.Phase,-9} step {run.Last.Step,5} loss {run.Last.Loss:0.000} crossed {ByteFormat.Bytes(crossed)} training {run.TrainingSeconds:0.0} s"));
        }

        RunOutcome ddp = runs[0].Run;
        // The target: flat DDP's running loss halfway through its run, a point of its curve every method should reach.
        double target = Math.Round(ddp.Samples.LastOrDefault(s => s.Step <= steps / 2)?.Loss ?? double.NaN, 3);
        double? ddpTime = ddp.SecondsTo(target);
        var table = new StringBuilder();
        table.AppendLine(string.Create(s_text,
            $"synthetic source, GPT {workload.Layers}x{workload.Dim} (ctx {workload.Context}, batch 16 per worker), {steps} steps, 4 worker processes, lr {workload.LearningRate}. Two sites (bench/two-sites.sh): each site's workers in one network namespace, the link between the sites: {wan}. "));
        table.AppendLine(string.Create(s_text,
            $"Bytes crossed: what the two sites' links transmitted during the run (interface counters, so every byte on the wire, headers and status polls included). Target loss {target:0.000}: flat DDP's running loss (rank 0) at step {steps / 2}. "));
        table.AppendLine("Slow-tier share: global rank 0's time in rounds between replicas (their in-site gather included) over its sync and compute time.");
        table.AppendLine();
        table.AppendLine("| topology and method | bytes crossed between sites | vs flat DDP | wall time | time to target | vs flat DDP | slow-tier share of time | held-out loss |");
        table.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach ((Shape shape, RunOutcome run, long crossed) in runs)
        {
            double? time = run.SecondsTo(target);
            string speedup = run == ddp ? "baseline" : time is { } t && ddpTime is { } d ? (d / t).ToString("0.00", s_text) + "x" : "";
            double bytesRatio = crossed == 0 ? double.PositiveInfinity : (double)runs[0].WanBytes / crossed;
            table.AppendLine(string.Create(s_text,
                $"| {shape.Name} | {ByteFormat.Bytes(crossed)} | {(run == ddp ? "baseline" : ByteFormat.Factor(bytesRatio) + " less")} | {run.TrainingSeconds:0.0} s | {(time is { } s ? s.ToString("0.0", s_text) + " s" : "not reached")} | {speedup} | {Share(run)} | {run.HeldOutLoss:0.000} |"));
        }

        string plot = Path.ChangeExtension(output, ".png");
        Plots.Lines(plot, "Two sites: loss against wall time", "seconds from the first step", "running training loss (rank 0)",
            runs.Select(r => (r.Shape.Name, r.Run.Samples.Select(s => s.Seconds - r.Run.Samples[0].Seconds).ToArray(), r.Run.Samples.Select(s => s.Loss ?? double.NaN).ToArray())));
        table.AppendLine();
        table.AppendLine(string.Create(s_text, $"![loss against wall time on two sites]({Path.GetFileName(plot)})"));

        await ResultsFile.WriteAsync(output, "Two sites: flat DDP against two tiers", string.Create(s_text, $"sudo bash bench/two-sites-bench.sh {steps}"), table.ToString());
        return 0;
    }

    /// <summary>The median comm fraction over the second half of the run (after warm-up and the first rounds).</summary>
    private static string Share(RunOutcome run)
    {
        double[] fractions = [.. run.Samples.Skip(run.Samples.Count / 2).Select(s => s.CommFraction ?? double.NaN).Where(f => !double.IsNaN(f)).Order()];
        return fractions.Length == 0 ? "" : (100 * fractions[fractions.Length / 2]).ToString("0.0", s_text) + " %";
    }

    private static LowCommJob Tiered(LowCommJob job, Shape shape)
    {
        job.Spec = job.Spec with { Replicas = shape.Replicas, WorkersPerReplica = shape.Workers };
        return job;
    }

    private static async Task<long> WanBytesAsync()
    {
        using Process process = Process.Start(new ProcessStartInfo("bash", ["bench/two-sites.sh", "wan-bytes"]) { UseShellExecute = false, RedirectStandardOutput = true })!;
        string text = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode == 0 ? long.Parse(text.Trim(), s_text) : throw new InvalidOperationException("bench/two-sites.sh wan-bytes failed");
    }
}
