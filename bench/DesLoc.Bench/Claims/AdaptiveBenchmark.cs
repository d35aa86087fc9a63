using System.Globalization;
using System.Text;

namespace DesLoc.Bench.Claims;

/// <summary>
/// <c>adaptive OUTPUT [FAST SLOW SECONDS]</c> (run by bench/adaptive.sh inside the namespaces of bench/netns.sh): one
/// DES-LOC job with <c>sync.adaptive</c> on, its links fast, then slow, then fast again; the bandwidth, the period
/// and the comm fraction the operator saw over time, as a table per phase and a plot.
/// </summary>
internal static class AdaptiveBenchmark
{
    private static readonly CultureInfo s_text = CultureInfo.InvariantCulture;

    public static async Task<int> RunAsync(string[] args)
    {
        string output = args.Length > 1 ? args[1] : "bench/results/adaptive.md";
        string fast = args.Length > 2 ? args[2] : "1gbit";
        string slow = args.Length > 3 ? args[3] : "10mbit";
        double phaseSeconds = args.Length > 4 ? double.Parse(args[4], s_text) : 60;
        if (!Namespaces.Present())
        {
            Console.Error.WriteLine("No desloc-r* namespaces: run bench/adaptive.sh (as root).");
            return 1;
        }

        const string Policy = "enabled: true\ntargetCommFraction: 0.25\nhysteresis: 0.3\nminPeriod: 2\nmaxPeriod: 128\nintervalSeconds: 5\nswitchAfterPeriods: 1";
        Workload workload = SlowLinksBenchmark.LinkWorkload(1_000_000);
        Method method = Method.DesLoc(4);
        string[] rates = [fast, slow, fast];
        await Namespaces.SetRateAsync(fast);

        // Phases are timed from the first trained step; the job is stopped at the end of the last one.
        double? trainingStart = null;
        int phase = 0;
        using var finished = new CancellationTokenSource();
        async Task OnTick(double seconds, long step)
        {
            if (trainingStart is null && step > 0)
            {
                trainingStart = seconds;
            }

            if (trainingStart is not { } start || phase >= rates.Length)
            {
                return;
            }

            if (seconds - start >= (phase + 1) * phaseSeconds)
            {
                phase++;
                if (phase < rates.Length)
                {
                    await Namespaces.SetRateAsync(rates[phase]);
                    Console.WriteLine(string.Create(s_text, $"{seconds - start:0.0} s: link -> {rates[phase]}"));
                }
                else
                {
                    await finished.CancelAsync();
                }
            }
        }

        RunOutcome run = await LocalJobRun.RunAsync(workload.Job(method, "adaptive", Policy), method, Namespaces.Network, OnTick, finished.Token);
        double origin = trainingStart ?? 0;
        Sample[] samples = [.. run.Samples.Where(s => s.Step > 0 && s.Seconds - origin <= rates.Length * phaseSeconds)];

        var table = new StringBuilder();
        table.AppendLine(string.Create(s_text,
            $"{workload.Describe().Replace("1000000 steps", "run for " + (rates.Length * phaseSeconds).ToString("0", s_text) + " s", StringComparison.Ordinal)}; {method.Name} to start, `sync.adaptive` on (target comm fraction 0.25, hysteresis 0.3, periods 2..128, a decision at most every 5 s, switch after 1 period). Each replica in its own network namespace; every replica's link is {fast}, then {slow}, then {fast} again, {phaseSeconds:0} s each (tc tbf changed while the job runs). Figures are the operator's view of rank 0 (status samples every 250 ms)."));
        table.AppendLine();
        table.AppendLine("| phase | link | measured bandwidth (median, 2nd half) | Kx at the start | Kx at the end | comm fraction (median, 2nd half of the phase) | steps/s |");
        table.AppendLine("|---:|---|---:|---:|---:|---:|---:|");
        for (int i = 0; i < rates.Length; i++)
        {
            double from = origin + (i * phaseSeconds);
            double to = from + phaseSeconds;
            Sample[] inPhase = [.. samples.Where(s => s.Seconds >= from && s.Seconds < to)];
            if (inPhase.Length < 2)
            {
                continue;
            }

            Sample[] late = [.. inPhase.Where(s => s.Seconds >= from + (phaseSeconds / 2))];
            double bandwidth = Median(late.Select(s => s.Bandwidth ?? double.NaN));
            double fraction = Median(late.Select(s => s.CommFraction ?? double.NaN));
            double rate = (inPhase[^1].Step - inPhase[0].Step) / (inPhase[^1].Seconds - inPhase[0].Seconds);
            table.AppendLine(string.Create(s_text,
                $"| {i + 1} | {rates[i]} | {bandwidth / 1e6:0.0} MB/s | {Kx(inPhase[0])} | {Kx(inPhase[^1])} | {fraction:0.000} | {rate:0.0} |"));
        }

        table.AppendLine();
        table.AppendLine("Period changes (as the status showed them):");
        table.AppendLine();
        int? previous = null;
        foreach (Sample sample in samples)
        {
            int? kx = sample.Periods.TryGetValue("params", out int value) ? value : null;
            if (kx != previous && previous is not null)
            {
                table.AppendLine(string.Create(s_text,
                    $"- {sample.Seconds - origin:0.0} s, step {sample.Step}: Kx {previous} -> {kx} (Ku {sample.Periods.GetValueOrDefault("m1")}, Kv {sample.Periods.GetValueOrDefault("m2")}); comm fraction then {sample.CommFraction:0.000}"));
            }

            previous = kx;
        }

        string plot = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(output))!, "adaptive.png");
        Directory.CreateDirectory(Path.GetDirectoryName(plot)!);
        double[] time = [.. samples.Select(s => s.Seconds - origin)];
        Plots.Panels(plot, $"Adaptive sync: link {fast} -> {slow} -> {fast}", "seconds since the first step",
        [
            ("bandwidth (MB/s)", [("measured by rank 0", time, [.. samples.Select(s => (s.Bandwidth ?? 0) / 1e6)])]),
            ("period", [("Kx (params)", time, [.. samples.Select(s => (double)s.Periods.GetValueOrDefault("params"))])]),
            ("comm fraction", [("measured", time, [.. samples.Select(s => s.CommFraction ?? 0)]), ("target", [time[0], time[^1]], [0.25, 0.25])]),
        ]);
        table.AppendLine();
        table.AppendLine("Plot: `adaptive.png` (bandwidth, Kx and comm fraction over time).");
        await ResultsFile.WriteAsync(output, "Adaptive sync end to end", string.Create(s_text, $"sudo bash bench/adaptive.sh {phaseSeconds}"), table.ToString());
        return 0;
    }

    private static string Kx(Sample sample) => sample.Periods.TryGetValue("params", out int kx) ? kx.ToString(s_text) : "?";

    private static double Median(IEnumerable<double> values)
    {
        double[] sorted = [.. values.Where(double.IsFinite).Order()];
        return sorted.Length == 0 ? double.NaN : sorted[sorted.Length / 2];
    }
}
