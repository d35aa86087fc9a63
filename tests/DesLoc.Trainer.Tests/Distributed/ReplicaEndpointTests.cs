using System.Diagnostics;
using DesLoc.Trainer.Tests.Training;
using DesLoc.Transport.Grpc;
using DesLoc.Transport.Protocol;

namespace DesLoc.Trainer.Tests.Distributed;

/// <summary>What a running replica process exposes: Prometheus metrics, health, status over gRPC, and a graceful SIGTERM.</summary>
[Collection("TorchSharp")]
public sealed class ReplicaEndpointTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task RunningReplica_ExposesMetricsStatusAndHealth_AndStopsCleanlyOnSigterm()
    {
        JobSpec spec = TinyJobs.Spec(new AlgorithmSpec { Type = AlgorithmType.DESLOC, Desloc = new() { Kx = 5 } }, steps: 100_000, replicas: 2);
        spec = spec with { Training = spec.Training with { EvalEverySteps = 10, EvalBatches = 2 } };
        using var cluster = new ReplicaCluster(spec, checkpointEverySteps: 1_000_000);
        cluster.StartAll();
        await cluster.WaitForStepAsync([0, 1], 40, s_timeout);
        using var http = new HttpClient();

        string metrics = await http.GetStringAsync($"{cluster.MetricsUrl(0)}/metrics");
        string health = await http.GetStringAsync($"{cluster.MetricsUrl(0)}/healthz");
        HttpResponseMessage ready = await http.GetAsync($"{cluster.MetricsUrl(0)}/readyz");
        using var peers = new PeerDirectory([cluster.GrpcAddress(0)], cluster.Token, cluster.Tls);
        StatusReply status = await peers.Replica(0).GetStatusAsync(new StatusRequest(), JobToken.Headers(cluster.Token));

        Assert.Equal("ok", health);
        Assert.True(ready.IsSuccessStatusCode);
        Assert.Matches("(?m)^desloc_bytes_sent_total\\{kind=\"params\",tier=\"inter\"\\} [1-9]", metrics);
        Assert.Matches("(?m)^desloc_bytes_sent_total\\{kind=\"m2\",tier=\"inter\"\\} ", metrics);
        Assert.Matches("(?m)^desloc_ddp_equivalent_bytes_total [1-9]", metrics);
        Assert.Matches("(?m)^desloc_sync_period\\{state=\"params\"\\} 5$", metrics);
        Assert.Matches("(?m)^desloc_failed_rounds_total 0$", metrics);
        Assert.Matches("(?m)^desloc_link_bandwidth_bytes_per_second [1-9]", metrics);
        Assert.Matches("(?m)^desloc_eval_loss [0-9]+\\.[0-9]+", metrics);
        Assert.Matches("(?m)^desloc_eval_step [1-9][0-9]*0$", metrics);
        Assert.Equal(string.Empty, await PromtoolCheckAsync(metrics));
        Assert.True(status.Step >= 40);
        Assert.True(status.BytesSent["params"] > 0);
        Assert.Equal([0, 1], status.Members);
        Assert.True(status.EvalStep >= 10 && status.EvalStep % 10 == 0, $"eval step {status.EvalStep}");
        Assert.InRange(status.EvalLoss, 0.1, 10);
        Assert.Matches("Evaluated step [0-9]+0/100000: held-out loss [0-9.]+, perplexity [0-9.]+", cluster.Log(0));

        SetSyncPeriodsReply refused = await ChangePeriodsAsync(cluster, rank: 1, switchStep: status.Step + 1000);
        SetSyncPeriodsReply accepted = await ChangePeriodsAsync(cluster, rank: 0, switchStep: status.Step + 400);
        Assert.False(refused.Accepted);
        Assert.Contains("send sync-period changes to global rank 0 (replica 0, worker 0)", refused.Message);
        Assert.True(accepted.Accepted, accepted.Message);
        await WaitForMetricAsync(http, cluster.MetricsUrl(0), "desloc_sync_period{state=\"params\"} 10");
        await WaitForMetricAsync(http, cluster.MetricsUrl(1), "desloc_sync_period{state=\"params\"} 10");

        using (Process term = Process.Start("kill", ["-TERM", cluster.ProcessId(1).ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await term.WaitForExitAsync();
        }

        int[] exits = await cluster.WaitForAsync([1], s_timeout);
        Assert.Equal(143, exits[0]); // stopped, not finished: the operator restarts or resumes it
        Assert.Contains("Stopping rank 1 at step", cluster.Log(1));
        Assert.Matches("Wrote checkpoint of step [0-9]+ to", cluster.Log(1));
    }

    private static async Task<SetSyncPeriodsReply> ChangePeriodsAsync(ReplicaCluster cluster, int rank, long switchStep)
    {
        using var peers = new PeerDirectory([cluster.GrpcAddress(rank)], cluster.Token, cluster.Tls);
        var request = new SetSyncPeriodsRequest { SwitchStep = switchStep };
        request.Periods.Add(new Dictionary<string, int> { ["params"] = 10, ["m1"] = 30, ["m2"] = 60 });
        return await peers.Replica(0).SetSyncPeriodsAsync(request, JobToken.Headers(cluster.Token));
    }

    private static async Task WaitForMetricAsync(HttpClient http, string url, string line)
    {
        var clock = Stopwatch.StartNew();
        while (!(await http.GetStringAsync($"{url}/metrics")).Split('\n').Contains(line))
        {
            Assert.True(clock.Elapsed < s_timeout, $"{url} never showed '{line}'");
            await Task.Delay(100);
        }
    }

    /// <summary>Runs Debian's promtool on the scraped text: empty output means it parsed as valid Prometheus exposition.</summary>
    private static async Task<string> PromtoolCheckAsync(string metrics)
    {
        var start = new ProcessStartInfo("promtool", ["check", "metrics"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process promtool = Process.Start(start) ?? throw new InvalidOperationException("promtool did not start (install Debian's prometheus package).");
        await promtool.StandardInput.WriteAsync(metrics);
        promtool.StandardInput.Close();
        string output = await promtool.StandardOutput.ReadToEndAsync() + await promtool.StandardError.ReadToEndAsync();
        await promtool.WaitForExitAsync();
        return promtool.ExitCode == 0 ? string.Empty : output;
    }
}
