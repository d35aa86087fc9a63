using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using DesLoc.Contract.Wire;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Api.Schema;
using DesLoc.Operator.Kubernetes;
using DesLoc.Operator.Metrics;
using DesLoc.Operator.Reconciliation;
using DesLoc.Testing;
using DesLoc.Testing.Kubernetes;
using DesLoc.Testing.Kubernetes.Validation;
using DesLoc.Trainer.Configuration;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace DesLoc.Trainer.Tests.Distributed;

/// <summary>
/// `serve` watching a real job: the operator runs against the test API server, and the pods it creates are played by
/// real trainer processes on loopback, started with the token and trainer config the operator put in the job's
/// Secret. Only the address of rank 0 is given to the operator, since pod DNS names do not resolve here.
/// </summary>
[Collection("TorchSharp")]
public sealed class ServeTrainerPollingTests
{
    private const string Namespace = "ml";
    private const string Name = "adaptive";
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(4);

    private const string Manifest = $"""
        apiVersion: desloc.dev/v1alpha1
        kind: LowCommJob
        metadata:
          name: {Name}
          namespace: {Namespace}
        spec:
          replicas: 2
          template:
            spec:
              containers:
                - name: trainer
                  image: ghcr.io/desloc/trainer:0.1.0
        {JobSpecs.AdaptiveTargetOutOfReach}
        """;

    [Fact]
    public async Task Serve_PollsRankZeroOfARealJob_RecordsItsProgress_AndItsPeriodChangeReachesEveryReplica()
    {
        await using TestApiServer server = await TestApiServer.StartAsync(new TestApiServerOptions
        {
            ValidateCustomObject = (schema, obj, old) => StructuralSchema.Validate(obj, schema, old),
            ApplyDefaults = (schema, obj) => StructuralSchema.ApplyDefaults(obj, schema),
        });
        using IKubernetes client = server.CreateClient();
        await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(CrdGenerator.LowCommJobDefinition());
        ReplicaCluster? cluster = null;
        var options = new OperatorOptions
        {
            Namespace = Namespace,
            LeaderElection = false,
            TrainerPoll = TimeSpan.FromMilliseconds(250),
            RankZeroAddress = _ => cluster?.GrpcAddress(0) ?? "127.0.0.1:9",   // the discard port: refused until the trainers start
        };
        var host = new KubernetesOperator(client, options, new OperatorMetrics(), NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        Task run = Task.Run(() => host.RunAsync(stop.Token));
        try
        {
            await client.CustomObjects.CreateNamespacedCustomObjectAsync(
                KubernetesYaml.Deserialize<LowCommJob>(Manifest), LowCommJob.Group, LowCommJob.Version, Namespace, LowCommJob.Plural);
            await Eventually.TrueAsync(() => Pods(server).Count == 2 && server.Get("v1", "secrets", Namespace, JobNames.Secret(Name)) is not null, "the pods and the Secret exist", 30);

            // Play the kubelet: the pods run the trainer with what the operator put in the Secret.
            V1Secret secret = await client.CoreV1.ReadNamespacedSecretAsync(JobNames.Secret(Name), Namespace);
            JobSpec spec = JobSpecLoader.Load(Encoding.UTF8.GetString(secret.Data[JobNames.ConfigKey]), []);
            cluster = new ReplicaCluster(spec, checkpointEverySteps: 400, token: Encoding.UTF8.GetString(secret.Data[JobNames.TokenKey]),
                tls: new JobTlsFiles(
                    Encoding.UTF8.GetString(secret.Data[JobTlsFiles.CaFile]),
                    Encoding.UTF8.GetString(secret.Data[JobTlsFiles.CertificateFile]),
                    Encoding.UTF8.GetString(secret.Data[JobTlsFiles.KeyFile])));
            foreach (JsonNode pod in Pods(server))
            {
                server.SetPodPhase(Namespace, pod["metadata"]!["name"]!.GetValue<string>(), "Running");
            }

            cluster.StartAll();
            // Recorded first as pending, then as the periods once rank 0 reports a step past the switch.
            await Eventually.TrueAsync(() => Status(server)?["sync"]?["periods"]?["params"]?.GetValue<int>() >= 8, "a period change is recorded and in force", s_timeout.TotalSeconds);

            JsonNode status = Status(server)!;
            Assert.True(status["step"]!.GetValue<long>() > 0);
            Assert.True(status["communication"]!["bytesSent"]!.GetValue<long>() > 0);
            Assert.True(status["communication"]!["reduction"]!.GetValue<double>() > 1);
            Assert.True(status["sync"]!["changes"]!.GetValue<int>() >= 1);
            int parameters = status["sync"]!["periods"]!["params"]!.GetValue<int>();
            Assert.InRange(parameters, 8, 16);
            Assert.Equal(3 * parameters, status["sync"]!["periods"]!["m1"]!.GetValue<int>());
            // The status is written before the Events of the same reconcile.
            await Eventually.TrueAsync(() => server.List("v1", "events", Namespace).Any(e =>
                e["reason"]?.GetValue<string>() == "SyncPeriodsChanged" && e["message"]!.GetValue<string>().Contains("above target", StringComparison.Ordinal)),
                "a SyncPeriodsChanged Event says the cost is above target");

            // The change went to rank 0 only; it reached rank 1 through the quorum.
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            bool switched = false;
            await WaitUntilAsync(async () => (switched = await ParamsPeriodAsync(http, cluster, 1) >= 8) || cluster.HasExited(1), "rank 1 syncs parameters every 8 steps or more, or exits");
            Assert.True(switched, $"rank 1 finished before its /metrics showed the new period{Environment.NewLine}{cluster.AllLogs()}");

            Assert.All(await cluster.WaitForAllAsync(s_timeout), code => Assert.Equal(0, code));
        }
        finally
        {
            cluster?.Dispose();
            await stop.CancelAsync();
            await run;
        }
    }

    private static IReadOnlyList<JsonNode> Pods(TestApiServer server) =>
        [.. server.List("v1", "pods", Namespace).Where(p => p["metadata"]?["labels"]?[JobNames.JobLabel]?.GetValue<string>() == Name)];

    private static JsonNode? Status(TestApiServer server) => server.Get(LowCommJob.GroupVersion, LowCommJob.Plural, Namespace, Name)?["status"];

    private static async Task<double> ParamsPeriodAsync(HttpClient http, ReplicaCluster cluster, int rank)
    {
        const string prefix = "desloc_sync_period{state=\"params\"} ";
        try
        {
            string text = await http.GetStringAsync($"{cluster.MetricsUrl(rank)}/metrics");
            string? line = text.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
            return line is null ? -1 : double.Parse(line[prefix.Length..], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return -1;
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + s_timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"timed out waiting until {what}");
            }

            await Task.Delay(50);
        }
    }
}
