using System.Globalization;
using DesLoc.Operator.Kubernetes;
using DesLoc.Operator.Metrics;
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
    public static async Task<int> RunAsync(IReadOnlyList<string> arguments)
    {
        Dictionary<string, string> flags;
        OperatorOptions options;
        int metricsPort;
        try
        {
            flags = Flags(arguments);
            options = new OperatorOptions
            {
                Namespace = flags.GetValueOrDefault("namespace"),
                Workers = Number(flags, "workers", 4),
                LeaderElection = Switch(flags, "leader-election", true),
                LeaseNamespace = flags.GetValueOrDefault("lease-namespace") ?? Environment.GetEnvironmentVariable("POD_NAMESPACE") ?? "default",
                Identity = flags.GetValueOrDefault("identity") ?? Environment.GetEnvironmentVariable("POD_NAME") ?? Environment.MachineName,
            };
            metricsPort = Number(flags, "metrics-port", 8080);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return 2;
        }

        ClusterAccess access = ClusterAccess.Resolve(
            flags.GetValueOrDefault("server"),
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

    private static int Number(Dictionary<string, string> flags, string name, int fallback) =>
        !flags.TryGetValue(name, out string? value) ? fallback
        : int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int number) && number > 0 ? number
        : throw new ArgumentException($"--{name} takes a positive whole number, not '{value}'.");

    private static bool Switch(Dictionary<string, string> flags, string name, bool fallback) =>
        !flags.TryGetValue(name, out string? value) ? fallback
        : bool.TryParse(value, out bool on) ? on
        : throw new ArgumentException($"--{name} takes true or false, not '{value}'.");

    /// <summary>--name value, --name=value, or a bare --name (true).</summary>
    private static Dictionary<string, string> Flags(IReadOnlyList<string> arguments)
    {
        var flags = new Dictionary<string, string>(StringComparer.Ordinal);
        string[] known = ["namespace", "workers", "leader-election", "lease-namespace", "identity", "metrics-port", "server"];
        for (int i = 0; i < arguments.Count; i++)
        {
            string argument = arguments[i];
            if (!argument.StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"Unexpected argument '{argument}'.");
            }

            string name = argument[2..];
            string? value = null;
            if (name.Contains('=', StringComparison.Ordinal))
            {
                (name, value) = (name[..name.IndexOf('=', StringComparison.Ordinal)], name[(name.IndexOf('=', StringComparison.Ordinal) + 1)..]);
            }
            else if (i + 1 < arguments.Count && !arguments[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = arguments[++i];
            }

            flags[known.Contains(name) ? name : throw new ArgumentException($"Unknown flag --{name}; known: --{string.Join(", --", known)}.")] = value ?? "true";
        }

        return flags;
    }
}
