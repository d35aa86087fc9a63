using System.CommandLine;
using DesLoc.Operator.Kubernetes;
using DesLoc.Operator.Metrics;
using DesLoc.Operator.Reconciliation;
using k8s;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace DesLoc.Operator;

/// <summary>`serve`: reconcile LowCommJobs on the cluster, with /metrics, /healthz and /readyz on the metrics port.</summary>
internal static class ServeCommand
{
    private static readonly Option<string> s_namespace = new("--namespace")
    {
        Description = "Watch one namespace (default: every namespace).",
        HelpName = "NS",
    };

    private static readonly Option<int> s_metricsPort = OperatorCommandLine.PositiveNumber("--metrics-port", 8080, "Port of /metrics, /healthz and /readyz.");

    private static readonly Option<string> s_leaderElection = OperatorCommandLine.Switch("--leader-election", true,
        "Hold a Lease so that one operator replica reconciles at a time.");

    private static readonly Option<string> s_leaseNamespace = new("--lease-namespace")
    {
        Description = "Namespace of the Lease (default: $POD_NAMESPACE, else default).",
        HelpName = "NS",
    };

    private static readonly Option<string> s_identity = new("--identity")
    {
        Description = "This replica's name in the Lease (default: $POD_NAME, else the host name).",
        HelpName = "NAME",
    };

    private static readonly Option<int> s_workers = OperatorCommandLine.PositiveNumber("--workers", 4, "Jobs reconciled at once.");

    private static readonly Option<string> s_server = new("--server")
    {
        Description = "The API server's URL (else $KUBECONFIG, else the in-cluster config, else ~/.kube/config).",
        HelpName = "URL",
    };

    private static readonly Option<string> s_operatorPodLabels = OperatorCommandLine.Labels("--operator-pod-labels",
        "Labels of this operator's pods (key=value,...), which each job's NetworkPolicy admits to the trainer ports, with the namespace $POD_NAMESPACE (default: every pod of that namespace).");

    private static readonly Option<string> s_scraperNamespaceLabels = OperatorCommandLine.Labels("--metrics-scraper-namespace-labels",
        "Labels of the namespaces (key=value,...) whose pods each job's NetworkPolicy also admits to the trainers' metrics port only, e.g. Prometheus's (default: none).");

    private static readonly Option<string> s_scraperPodLabels = OperatorCommandLine.Labels("--metrics-scraper-pod-labels",
        "Labels of the pods (key=value,...) each job's NetworkPolicy also admits to the trainers' metrics port only; without --metrics-scraper-namespace-labels, in the job's own namespace (default: none).");

    public static Command Command { get; } = Build();

    /// <summary>What `serve` was asked for: the operator's options, the metrics port, an explicit API server.</summary>
    public sealed record Settings(OperatorOptions Options, int MetricsPort, string? Server);

    /// <summary>Reads a parsed `serve` command line; unset flags take their defaults and the pod's environment.</summary>
    public static Settings Read(ParseResult parsed) => new(
        new OperatorOptions
        {
            Namespace = parsed.GetValue(s_namespace),
            Workers = parsed.GetValue(s_workers),
            LeaderElection = OperatorCommandLine.SwitchValue(parsed, s_leaderElection),
            LeaseNamespace = parsed.GetValue(s_leaseNamespace) ?? Environment.GetEnvironmentVariable("POD_NAMESPACE") ?? "default",
            Identity = parsed.GetValue(s_identity) ?? Environment.GetEnvironmentVariable("POD_NAME") ?? Environment.MachineName,
            OperatorPeer = new OperatorPeer(
                Environment.GetEnvironmentVariable("POD_NAMESPACE") ?? "default",
                OperatorCommandLine.LabelsValue(parsed, s_operatorPodLabels)),
            MetricsScraper = new MetricsScraperPeer(
                OperatorCommandLine.LabelsValue(parsed, s_scraperNamespaceLabels),
                OperatorCommandLine.LabelsValue(parsed, s_scraperPodLabels)),
        },
        parsed.GetValue(s_metricsPort),
        parsed.GetValue(s_server));

    private static Command Build()
    {
        var command = new Command("serve", "Reconcile LowCommJobs on the cluster.")
        {
            s_namespace, s_metricsPort, s_leaderElection, s_leaseNamespace, s_identity, s_workers, s_server, s_operatorPodLabels,
            s_scraperNamespaceLabels, s_scraperPodLabels,
        };
        command.SetAction((parsed, _) => RunAsync(Read(parsed)));
        return command;
    }

    public static async Task<int> RunAsync(Settings settings)
    {
        (OperatorOptions options, int metricsPort, string? server) = settings;
        ClusterAccess access = ClusterAccess.Resolve(
            server,
            Environment.GetEnvironmentVariable("KUBECONFIG"),
            KubernetesClientConfiguration.IsInCluster(),
            Environment.GetEnvironmentVariable("HOME") ?? Environment.GetEnvironmentVariable("USERPROFILE"),
            File.Exists);
        if (access is ClusterAccess.Missing missing)
        {
            await Console.Error.WriteLineAsync(missing.Message);
            return 2;
        }

        KubernetesClientConfiguration config;
        try
        {
            config = access.Configuration();
        }
        catch (Exception e) when (e is k8s.Exceptions.KubeConfigException or IOException or UnauthorizedAccessException
            or YamlDotNet.Core.YamlException or ArgumentException or FormatException)
        {
            // A broken kubeconfig is the user's to fix: say which one and why, without a stack trace.
            await Console.Error.WriteLineAsync($"serve: could not use {access.Describe()}: {e.Message}");
            return 2;
        }

        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenAnyIP(metricsPort, listen => listen.Protocols = HttpProtocols.Http1));
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        await using WebApplication app = builder.Build();
        using var client = new k8s.Kubernetes(config);
        var metrics = new OperatorMetrics();
        var host = new KubernetesOperator(client, options, metrics, app.Logger);
        app.MapMetrics("/metrics", metrics.Registry);
        app.MapGet("/healthz", () => Results.Text("ok"));
        // A standby is ready (it waits for the lease); a leader is ready once its caches have synced.
        app.MapGet("/readyz", () => !host.IsLeader || host.Synced ? Results.Text("ready") : Results.Text("syncing caches", statusCode: 503));
        await app.StartAsync();
        await host.RunAsync(app.Lifetime.ApplicationStopping);
        await app.StopAsync();
        return 0;
    }
}
