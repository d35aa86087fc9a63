using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DesLoc.Contract.Wire;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Local;
using DesLoc.Operator.Metrics;
using DesLoc.Operator.Reconciliation;
using DesLoc.Operator.Tests.Local;
using DesLoc.Operator.Trainers;
using k8s.Models;

namespace DesLoc.Operator.Tests.Chart;

/// <summary>
/// Every metric an alert or a dashboard panel queries is one the operator or a trainer replica really exports: the
/// names are compared with a scrape of a live operator registry and of a running trainer, not with a list.
/// </summary>
public sealed partial class MetricNamesTests
{
    private static readonly string[] s_histogramSuffixes = ["_bucket", "_sum", "_count"];

    [Fact]
    public async Task AlertRules_QueryOnlyMetricsTheOperatorExports()
    {
        Dictionary<string, string> exported = Families(await ScrapeOperatorAsync());
        HashSet<string> used = [.. AlertRules.Rules().SelectMany(r => MetricNames((string)r["expr"]!))];

        Assert.Equal(5, used.Count); // one family per alert: a failed extraction must not pass as "nothing unknown"
        string[] unknown = [.. used.Where(name => !IsExported(name, exported))];
        Assert.True(unknown.Length == 0, $"The alerts query metrics the operator does not export: {string.Join(", ", unknown)}");
    }

    [Fact]
    public async Task Dashboard_QueriesOnlyMetricsTheOperatorOrATrainerExports()
    {
        Dictionary<string, string> operatorFamilies = Families(await ScrapeOperatorAsync());
        Dictionary<string, string> trainerFamilies = Families(await ScrapeTrainerAsync());
        JsonNode dashboard = JsonNode.Parse(File.ReadAllText(RepoFiles.Chart("dashboards", "desloc.json")))!;
        HashSet<string> used = [.. Queries(dashboard).SelectMany(MetricNames)];

        string[] unknown = [.. used.Where(name => !IsExported(name, operatorFamilies) && !IsExported(name, trainerFamilies))];
        Assert.True(unknown.Length == 0, $"The dashboard queries metrics nobody exports: {string.Join(", ", unknown)}");
        // The panels the dashboard promises: bytes by kind, reduction, loss, step rate, sync periods, restarts.
        Assert.Superset(new HashSet<string>(["desloc_bytes_sent_total", "desloc_job_reduction_ratio", "desloc_loss", "desloc_step",
            "desloc_sync_period", "desloc_operator_replica_restarts_total", "desloc_operator_reconcile_duration_seconds_bucket"]), used);
        Assert.Contains(trainerFamilies.Keys, name => name == "desloc_bytes_sent_total");
    }

    /// <summary>PromQL metric names: identifiers with the desloc_ prefix (label names and values never have it).</summary>
    private static IEnumerable<string> MetricNames(string promql) =>
        MetricName().Matches(promql).Select(m => m.Value);

    private static IEnumerable<string> Queries(JsonNode? node) => node switch
    {
        JsonObject obj => obj.SelectMany(p => p.Key is "expr" or "query" or "definition" && p.Value is JsonValue value
            ? [value.GetValue<string>()]
            : Queries(p.Value)),
        JsonArray array => array.SelectMany(Queries),
        _ => [],
    };

    private static bool IsExported(string name, Dictionary<string, string> families) =>
        families.ContainsKey(name)
        || s_histogramSuffixes.Any(suffix => name.EndsWith(suffix, StringComparison.Ordinal)
            && families.TryGetValue(name[..^suffix.Length], out string? type) && type is "histogram" or "summary");

    /// <summary>Metric families of a Prometheus text exposition, from its # TYPE lines.</summary>
    private static Dictionary<string, string> Families(string exposition) =>
        TypeLine().Matches(exposition).ToDictionary(m => m.Groups["name"].Value, m => m.Groups["type"].Value);

    /// <summary>An operator registry after one reconcile, so every labelled family has a series (and a # TYPE line).</summary>
    private static async Task<string> ScrapeOperatorAsync()
    {
        var metrics = new OperatorMetrics();
        metrics.SetLeader(true);
        var job = new LowCommJob { Metadata = new V1ObjectMeta { Name = "names", NamespaceProperty = "ml" }, Spec = new LowCommJobSpec() };
        var status = new LowCommJobStatus
        {
            Phase = JobPhase.Running,
            Communication = new CommunicationStatus { BytesSent = 10, DdpEquivalentBytes = 100, Reduction = 10, CommFraction = 0.1 },
        };
        var plan = new ReconcilePlan(status, false, false, [], [],
            [JobEvent.Warning("ReplicaRestarted", "replica 1"), JobEvent.Normal("SyncPeriodsChanged", "kx 8")], null, false);
        metrics.Reconciled(plan, job, TimeSpan.FromMilliseconds(3), ReconcileResult.Success);
        using var stream = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(stream);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>
    /// Rank 0 of a tiny two-replica DES-LOC job, started by the operator's local backend from the pods and Secret the
    /// reconciler would create, scraped once it has synced every state kind.
    /// </summary>
    private static async Task<string> ScrapeTrainerAsync()
    {
        LowCommJob job = LocalJobs.Parse("metric-names", 2, """
          model: {layers: 1, dim: 16, heads: 2, context: 16}
          data: {synthetic: {vocab: 8, order: 1}}
          training: {steps: 100000, batchSize: 4}
          algorithm: {type: DESLOC, desloc: {kx: 2, ku: 4, kv: 8}}
        """);
        job.Metadata.NamespaceProperty = "local";
        job.Metadata.Uid = Guid.NewGuid().ToString();
        string runDirectory = Directory.CreateTempSubdirectory("desloc-chart-metrics-").FullName;
        ReplicaLayout layout = LocalLayout.Create(job.Spec.Replicas, runDirectory);
        try
        {
            await using var cluster = new LocalCluster(job, TrainerCommand.Locate(null), runDirectory, runDirectory);
            await cluster.CreateSecretAsync(DesiredObjects.Secret(job, new JobCredentials("chart-test-token", JobTlsFiles.Issue("chart-test", layout.CertificateNames, DateTimeOffset.UtcNow)), layout), CancellationToken.None);
            for (int index = 0; index < job.Spec.Replicas; index++)
            {
                await cluster.CreatePodAsync(DesiredObjects.Pod(job, index, layout, restarts: 0), CancellationToken.None);
            }

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var clock = Stopwatch.StartNew();
            while (true)
            {
                string? text = null;
                try
                {
                    text = await http.GetStringAsync($"http://127.0.0.1:{layout.MetricsPort(0)}/metrics");
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                }

                if (text is not null && StepReached().IsMatch(text))
                {
                    return text;
                }

                if (clock.Elapsed > TimeSpan.FromMinutes(3) || !cluster.AnyProcessRunning())
                {
                    string logs = string.Join(Environment.NewLine, Directory.GetFiles(Path.Combine(runDirectory, "logs")).Select(File.ReadAllText));
                    Assert.Fail($"Rank 0 did not reach step 16 (running: {cluster.AnyProcessRunning()}). Logs:{Environment.NewLine}{logs}");
                }

                await Task.Delay(200);
            }
        }
        finally
        {
            Directory.Delete(runDirectory, recursive: true);
        }
    }

    [GeneratedRegex(@"\bdesloc_[A-Za-z0-9_:]*")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"(?m)^# TYPE (?<name>\S+) (?<type>\S+)$")]
    private static partial Regex TypeLine();

    [GeneratedRegex(@"(?m)^desloc_step (1[6-9]|[2-9][0-9]|[0-9]{3,})(\.0+)?$")]
    private static partial Regex StepReached();
}
