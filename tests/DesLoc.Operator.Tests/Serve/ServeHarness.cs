using System.Text.Json.Nodes;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Api.Schema;
using DesLoc.Operator.Kubernetes;
using DesLoc.Operator.Metrics;
using DesLoc.Operator.Tests.ApiServer;
using DesLoc.Testing.Kubernetes;
using DesLoc.Testing.Kubernetes.Validation;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace DesLoc.Operator.Tests.Serve;

/// <summary>
/// A test API server that validates LowCommJobs with the generated CRD's schema and CEL (as a real one does), the CRD
/// installed, and operators running `serve` against it through the real KubernetesClient.
/// </summary>
internal sealed class ServeHarness : IAsyncDisposable
{
    private readonly List<(KubernetesOperator Operator, CancellationTokenSource Stop, Task Run)> _operators = [];

    private ServeHarness(TestApiServer server, string workDir)
    {
        Server = server;
        Client = server.CreateClient();
        WorkDir = workDir;
    }

    public TestApiServer Server { get; }

    public IKubernetes Client { get; }

    public string WorkDir { get; }

    public static async Task<ServeHarness> StartAsync()
    {
        TestApiServer server = await TestApiServer.StartAsync(new TestApiServerOptions
        {
            ValidateCustomObject = (schema, obj, old) => StructuralSchema.Validate(obj, schema, old),
            ApplyDefaults = (schema, obj) => StructuralSchema.ApplyDefaults(obj, schema),
        });
        string workDir = Directory.CreateTempSubdirectory("desloc-serve-").FullName;
        var harness = new ServeHarness(server, workDir);
        await harness.Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(CrdGenerator.LowCommJobDefinition());
        return harness;
    }

    public KubernetesOperator StartOperator(
        string identity = "operator-a", bool leaderElection = false, OperatorMetrics? metrics = null, Microsoft.Extensions.Logging.ILogger? logger = null,
        DesLoc.Operator.Reconciliation.MetricsScraperPeer? metricsScraper = null)
    {
        var options = new OperatorOptions
        {
            Namespace = "ml",
            Workers = 2,
            LeaderElection = leaderElection,
            LeaseNamespace = "ml",
            Identity = identity,
            LeaseDuration = TimeSpan.FromSeconds(4),
            RenewDeadline = TimeSpan.FromSeconds(3),
            RetryPeriod = TimeSpan.FromMilliseconds(500),
            TrainerPoll = TimeSpan.FromHours(1), // no trainers run behind this API server
            MetricsScraper = metricsScraper ?? DesLoc.Operator.Reconciliation.MetricsScraperPeer.None,
        };
        var host = new KubernetesOperator(Client, options, metrics ?? new OperatorMetrics(), logger ?? NullLogger.Instance);
        var stop = new CancellationTokenSource();
        _operators.Add((host, stop, Task.Run(() => host.RunAsync(stop.Token))));
        return host;
    }

    public async Task StopOperatorAsync(KubernetesOperator host)
    {
        var entry = _operators.Single(o => o.Operator == host);
        await entry.Stop.CancelAsync();
        await entry.Run;
    }

    public static string Manifest(string name, string spec = "") => $$"""
        apiVersion: desloc.dev/v1alpha1
        kind: LowCommJob
        metadata:
          name: {{name}}
          namespace: ml
        spec:
          replicas: 3
          template:
            spec:
              containers:
                - name: trainer
                  image: ghcr.io/desloc/trainer:0.1.0
                  resources:
                    limits:
                      nvidia.com/gpu: 1
          faultTolerance:
            maxRestarts: 1
            backoff:
              initialSeconds: 1
        {{spec}}
        """;

    public async Task<(int ExitCode, string Out, string Err)> KubectlApplyAsync(string yaml)
    {
        string file = Path.Combine(WorkDir, $"{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, yaml);
        return await Kubectl.RunAsync(Server, WorkDir, "apply", "-f", file);
    }

    public async Task CreateAsync(string yaml) =>
        await Client.CustomObjects.CreateNamespacedCustomObjectAsync(KubernetesYaml.Deserialize<LowCommJob>(yaml), LowCommJob.Group, LowCommJob.Version, "ml", LowCommJob.Plural);

    public IReadOnlyList<JsonNode> Pods(string job) =>
        [.. Server.List("v1", "pods", "ml").Where(p => p["metadata"]?["labels"]?["desloc.dev/job-name"]?.GetValue<string>() == job)];

    public JsonNode? Job(string name) => Server.Get(LowCommJob.GroupVersion, LowCommJob.Plural, "ml", name);

    public string? Phase(string name) => Job(name)?["status"]?["phase"]?.GetValue<string>();

    public IReadOnlyList<Corev1Event> Events(string job) =>
        [.. Server.List("v1", "events", "ml").Select(e => KubernetesJson.Deserialize<Corev1Event>(e.ToJsonString())).Where(e => e.InvolvedObject?.Name == job)];

    public void SetAllPods(string job, string phase)
    {
        foreach (JsonNode pod in Pods(job))
        {
            Server.SetPodPhase("ml", pod["metadata"]!["name"]!.GetValue<string>(), phase);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, stop, run) in _operators)
        {
            await stop.CancelAsync();
            await run;
            stop.Dispose();
        }

        Client.Dispose();
        await Server.DisposeAsync();
        Directory.Delete(WorkDir, recursive: true);
    }
}
