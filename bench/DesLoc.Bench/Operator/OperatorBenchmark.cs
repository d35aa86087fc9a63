using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Api.Schema;
using DesLoc.Operator.Local;
using DesLoc.Testing.Kubernetes;
using k8s;
using k8s.Models;

namespace DesLoc.Bench.Operator;

/// <summary>
/// <c>operator [jobs] [output]</c>: the real <c>desloc-operator serve</c> process against the test API server, with
/// N LowCommJobs of 4 replicas created at once: time until every pod exists, time until every status settles at
/// Running after the pods report running, reconcile latency (p50/p99 from the operator's own histogram, as
/// Prometheus' histogram_quantile computes it), requests sent and the operator's peak memory. The baseline is the
/// same run with a tenth of the jobs, so the table shows how the operator scales.
/// </summary>
internal static class OperatorBenchmark
{
    private static readonly CultureInfo s_text = CultureInfo.InvariantCulture;
    private const int Replicas = 4;

    private sealed record Result(int Jobs, TimeSpan PodsExist, TimeSpan Settled, double P50, double P99, double Reconciles, long PeakRssBytes, int Posts);

    public static async Task<int> RunAsync(string[] args)
    {
        int jobs = args.Length > 1 ? int.Parse(args[1], s_text) : 1000;
        string output = args.Length > 2 ? args[2] : "bench/results/operator.md";
        Result baseline = await MeasureAsync(Math.Max(1, jobs / 10));
        Result full = await MeasureAsync(jobs);

        var table = new StringBuilder();
        table.AppendLine(string.Create(s_text, $"`desloc-operator serve` (one process, 4 workers, leader election off) against the in-memory test API server in the benchmark process, over loopback HTTP. Each LowCommJob has {Replicas} replicas; all jobs are created at once (16 concurrent clients), then every pod is marked Running."));
        table.AppendLine();
        table.AppendLine("| jobs | all pods exist | statuses settled (Running) | per job | reconcile p50 | reconcile p99 | reconciles | operator peak RSS | pod POSTs |");
        table.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (Result r in new[] { baseline, full })
        {
            table.AppendLine(string.Create(s_text,
                $"| {r.Jobs} | {r.PodsExist.TotalSeconds:0.0} s | {r.Settled.TotalSeconds:0.0} s | {(r.PodsExist + r.Settled).TotalMilliseconds / r.Jobs:0.0} ms | {r.P50 * 1000:0.0} ms | {r.P99 * 1000:0.0} ms | {r.Reconciles:0} | {r.PeakRssBytes / 1048576.0:0} MiB | {r.Posts} |"));
        }

        double perJobRatio = ((full.PodsExist + full.Settled).TotalMilliseconds / full.Jobs) / ((baseline.PodsExist + baseline.Settled).TotalMilliseconds / baseline.Jobs);
        table.AppendLine();
        table.AppendLine(string.Create(s_text, $"Time per job at {full.Jobs} jobs is {perJobRatio:0.00}x that at {baseline.Jobs} jobs (1.00 = linear scaling); {full.Posts} pod POSTs for {full.Jobs * Replicas} pods (no double creates)."));
        await ResultsFile.WriteAsync(output, "Operator at scale", $"bash bench/operator.sh {jobs}", table.ToString());
        return 0;
    }

    private static async Task<Result> MeasureAsync(int jobs)
    {
        await using TestApiServer server = await TestApiServer.StartAsync(new TestApiServerOptions { WatchHistory = 100_000 });
        using IKubernetes client = server.CreateClient();
        await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(CrdGenerator.LowCommJobDefinition());
        int metricsPort = LoopbackPorts.Free();
        using Process operatorProcess = StartOperator(server.BaseAddress, metricsPort);
        using var http = new HttpClient();
        try
        {
            await WaitAsync(async () => (await TryGetAsync(http, $"http://127.0.0.1:{metricsPort}/readyz")) == "ready", TimeSpan.FromSeconds(60));
            var clock = Stopwatch.StartNew();
            await Parallel.ForEachAsync(Enumerable.Range(0, jobs), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
                await client.CustomObjects.CreateNamespacedCustomObjectAsync(Job(i), LowCommJob.Group, LowCommJob.Version, "bench", LowCommJob.Plural, cancellationToken: ct));
            await WaitAsync(() => Task.FromResult(server.List("v1", "pods", "bench").Count == jobs * Replicas), TimeSpan.FromMinutes(10));
            TimeSpan podsExist = clock.Elapsed;

            clock.Restart();
            foreach (JsonNode pod in server.List("v1", "pods", "bench"))
            {
                server.SetPodPhase("bench", pod["metadata"]!["name"]!.GetValue<string>(), "Running");
            }

            await WaitAsync(() => Task.FromResult(server.List(LowCommJob.GroupVersion, LowCommJob.Plural, "bench")
                .Count(j => j["status"]?["phase"]?.GetValue<string>() == "Running") == jobs), TimeSpan.FromMinutes(10));
            TimeSpan settled = clock.Elapsed;
            string metrics = await http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics");
            (double p50, double p99, double count) = Quantiles(metrics, "desloc_operator_reconcile_duration_seconds");
            long rss = PeakRss(operatorProcess.Id);
            int posts = server.CountRequests("POST", "/pods");
            Console.WriteLine(string.Create(s_text, $"{jobs} jobs: pods in {podsExist.TotalSeconds:0.0} s, settled in {settled.TotalSeconds:0.0} s, p50 {p50 * 1000:0.0} ms, p99 {p99 * 1000:0.0} ms, {rss / 1048576} MiB"));
            return new Result(jobs, podsExist, settled, p50, p99, count, rss, posts);
        }
        finally
        {
            operatorProcess.Kill(entireProcessTree: true);
            await operatorProcess.WaitForExitAsync();
        }
    }

    private static LowCommJob Job(int index) => new()
    {
        Metadata = new V1ObjectMeta { Name = string.Create(s_text, $"job-{index:D4}"), NamespaceProperty = "bench" },
        Spec = new LowCommJobSpec
        {
            Replicas = Replicas,
            Template = new V1PodTemplateSpec { Spec = new V1PodSpec { Containers = [new V1Container { Name = "trainer", Image = "ghcr.io/desloc/trainer:0.1.0" }] } },
        },
    };

    private static Process StartOperator(Uri server, int metricsPort)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "desloc-operator.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in new[] { dll, "serve", "--server", server.ToString().TrimEnd('/'), "--namespace", "bench", "--leader-election=false", "--metrics-port", metricsPort.ToString(s_text) })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["Logging__LogLevel__Default"] = "Warning";
        Process process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>histogram_quantile over the cumulative buckets, with linear interpolation inside a bucket.</summary>
    private static (double P50, double P99, double Count) Quantiles(string metrics, string name)
    {
        var buckets = new List<(double Le, double Count)>();
        foreach (string line in metrics.Split('\n').Where(l => l.StartsWith(name + "_bucket{", StringComparison.Ordinal)))
        {
            string le = line[(line.IndexOf("le=\"", StringComparison.Ordinal) + 4)..];
            le = le[..le.IndexOf('"', StringComparison.Ordinal)];
            buckets.Add((le == "+Inf" ? double.PositiveInfinity : double.Parse(le, s_text), double.Parse(line[(line.LastIndexOf(' ') + 1)..], s_text)));
        }

        double total = buckets[^1].Count;
        double Quantile(double q)
        {
            double rank = q * total;
            double lowerLe = 0;
            double lowerCount = 0;
            foreach ((double le, double count) in buckets)
            {
                if (count >= rank)
                {
                    return double.IsPositiveInfinity(le) ? lowerLe : lowerLe + ((le - lowerLe) * (rank - lowerCount) / Math.Max(1, count - lowerCount));
                }

                (lowerLe, lowerCount) = (le, count);
            }

            return lowerLe;
        }

        return (Quantile(0.5), Quantile(0.99), total);
    }

    private static long PeakRss(int pid)
    {
        string? line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], s_text) * 1024;
    }

    private static async Task<string?> TryGetAsync(HttpClient http, string url)
    {
        try
        {
            return await http.GetStringAsync(url);
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"Not done after {timeout}.");
            }

            await Task.Delay(50);
        }
    }
}
