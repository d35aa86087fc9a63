using k8s;

namespace DesLoc.Operator.Kubernetes;

/// <summary>
/// Where `serve` finds its cluster, in controller-runtime's order: the --server flag, else the kubeconfig files named
/// by $KUBECONFIG, else the in-cluster service account, else ~/.kube/config. The client's own BuildDefaultConfig is
/// not used: it tries ~/.kube/config before the service account and, when nothing exists, silently talks to
/// http://localhost:8080, which turns a missing config into an endless stream of refused connections.
/// </summary>
public abstract record ClusterAccess
{
    private ClusterAccess()
    {
    }

    /// <summary>The API server named on the command line (no credentials, no TLS settings).</summary>
    public sealed record Server(string Url) : ClusterAccess;

    /// <summary>Kubeconfig files from $KUBECONFIG, merged first-wins as kubectl does.</summary>
    public sealed record KubeconfigFiles(IReadOnlyList<string> Paths) : ClusterAccess;

    /// <summary>The pod's service account.</summary>
    public sealed record InCluster : ClusterAccess;

    /// <summary>~/.kube/config.</summary>
    public sealed record DefaultFile(string Path) : ClusterAccess;

    /// <summary>Nothing usable: a one-line message saying what was looked for and how to fix it.</summary>
    public sealed record Missing(string Message) : ClusterAccess;

    /// <summary>Decides where the cluster is; pure, so every branch is testable without a cluster or a home directory.</summary>
    /// <param name="server">The --server flag's value, or null.</param>
    /// <param name="kubeconfig">$KUBECONFIG, or null when unset.</param>
    /// <param name="inCluster">Whether the service account's host variables and token are present.</param>
    /// <param name="home">$HOME, or null when unset.</param>
    /// <param name="exists">Whether a file exists.</param>
    public static ClusterAccess Resolve(string? server, string? kubeconfig, bool inCluster, string? home, Func<string, bool> exists)
    {
        ArgumentNullException.ThrowIfNull(exists);
        if (!string.IsNullOrWhiteSpace(server))
        {
            return new Server(server);
        }

        string defaultFile = string.IsNullOrEmpty(home) ? "~/.kube/config" : System.IO.Path.Combine(home, ".kube", "config");
        if (!string.IsNullOrWhiteSpace(kubeconfig))
        {
            // kubectl skips names that do not exist; a $KUBECONFIG naming none at all is a mistake worth stopping for.
            string[] named = kubeconfig.Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            string[] present = [.. named.Where(exists)];
            return present.Length > 0
                ? new KubeconfigFiles(present)
                : new Missing($"serve: $KUBECONFIG is '{kubeconfig}', but no such file exists; point KUBECONFIG at a kubeconfig file, unset it, or pass --server URL.");
        }

        if (inCluster)
        {
            return new InCluster();
        }

        return !string.IsNullOrEmpty(home) && exists(defaultFile)
            ? new DefaultFile(defaultFile)
            : new Missing($"serve: no cluster to connect to: no --server flag, $KUBECONFIG is not set, not in a cluster "
                + $"(no KUBERNETES_SERVICE_HOST and service-account token) and {defaultFile} does not exist; "
                + "pass --server URL, set KUBECONFIG to a kubeconfig file, or create ~/.kube/config.");
    }

    /// <summary>The client configuration for a resolved access; throws when a kubeconfig cannot be read or used.</summary>
    public KubernetesClientConfiguration Configuration() => this switch
    {
        Server s => new KubernetesClientConfiguration { Host = s.Url },
        // Several files: the client's default loader reads $KUBECONFIG itself and merges them (its merge is not public).
        KubeconfigFiles { Paths.Count: 1 } f => KubernetesClientConfiguration.BuildConfigFromConfigFile(f.Paths[0]),
        KubeconfigFiles => KubernetesClientConfiguration.BuildDefaultConfig(),
        InCluster => KubernetesClientConfiguration.InClusterConfig(),
        DefaultFile d => KubernetesClientConfiguration.BuildConfigFromConfigFile(d.Path),
        _ => throw new InvalidOperationException("There is no configuration to build."),
    };

    /// <summary>Where the configuration came from, for the one line that says why it could not be used.</summary>
    public string Describe() => this switch
    {
        Server s => $"--server {s.Url}",
        KubeconfigFiles f => $"$KUBECONFIG ({string.Join(System.IO.Path.PathSeparator, f.Paths)})",
        InCluster => "the in-cluster service account",
        DefaultFile d => d.Path,
        Missing => "nothing",
        _ => ToString(),
    };
}
