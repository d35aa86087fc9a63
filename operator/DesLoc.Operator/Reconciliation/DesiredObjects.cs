using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using DesLoc.Contract.Wire;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Trainers;
using k8s;
using k8s.Models;

namespace DesLoc.Operator.Reconciliation;

/// <summary>
/// The children a job should have, as pure functions of its spec: one pod per worker (W per replica) built from the template with
/// the trainer's environment contract and the job's placement, a headless Service, a Secret with the job's token, TLS
/// material and trainer config, and a NetworkPolicy that admits the trainer ports from the job's pods and the operator only
/// (and, when one is named, the metrics port from a metrics scraper).
/// Every child carries the job's labels and a controller owner reference, so deleting the job deletes them. Pods pass
/// Pod Security <c>restricted</c> unless the template says otherwise, mount no service-account token (the trainer
/// never calls the API server), and hand the trainer's last words to the pod status.
/// </summary>
public static class DesiredObjects
{
    public const string RestartsAnnotation = "desloc.dev/restarts";

    /// <summary>Replica <paramref name="index"/>'s pod with one worker per replica (its worker 0 otherwise).</summary>
    public static V1Pod Pod(LowCommJob job, int index, ReplicaLayout layout, int restarts) => Pod(job, index, 0, layout, restarts);

    /// <summary>
    /// Worker <paramref name="worker"/> of replica <paramref name="replica"/>: one pod, one device. It listens on the
    /// ports of its global rank in <paramref name="layout"/>, and is placed by <see cref="LowCommJobSpec.Placement"/>.
    /// </summary>
    public static V1Pod Pod(LowCommJob job, int replica, int worker, ReplicaLayout layout, int restarts)
    {
        string name = job.Metadata.Name;
        int workers = job.Spec.WorkersPerReplica;
        int rank = new JobTopology(job.Spec.Replicas, workers).GlobalRank(replica, worker);
        string pod = JobNames.Pod(name, replica, worker, workers);
        // A deep copy through JSON, so the template in the job object is never mutated.
        V1PodTemplateSpec template = KubernetesJson.Deserialize<V1PodTemplateSpec>(KubernetesJson.Serialize(job.Spec.Template));
        V1PodSpec spec = template.Spec ?? new V1PodSpec { Containers = [] };
        var labels = new Dictionary<string, string>(template.Metadata?.Labels ?? new Dictionary<string, string>());
        foreach ((string key, string value) in JobNames.Labels(name))
        {
            labels[key] = value;
        }

        labels[JobNames.ReplicaLabel] = replica.ToString(CultureInfo.InvariantCulture);
        labels[JobNames.WorkerLabel] = worker.ToString(CultureInfo.InvariantCulture);
        var annotations = new Dictionary<string, string>(template.Metadata?.Annotations ?? new Dictionary<string, string>())
        {
            [RestartsAnnotation] = restarts.ToString(CultureInfo.InvariantCulture),
        };

        spec.RestartPolicy = "Never"; // the operator replaces failed workers itself, under the job's restart policy
        spec.Hostname = pod;
        spec.Subdomain = JobNames.Service(name);
        spec.AutomountServiceAccountToken ??= false;
        spec.SecurityContext ??= new V1PodSecurityContext();
        spec.SecurityContext.RunAsNonRoot ??= true;
        spec.SecurityContext.SeccompProfile ??= new V1SeccompProfile { Type = "RuntimeDefault" };
        spec.Volumes = [.. spec.Volumes ?? [], ConfigVolume(name, job.Spec.Transport.Tls), CheckpointVolume(job.Spec.Checkpoint)];
        Place(spec, job, replica);
        foreach (V1Container container in spec.Containers.Concat(spec.InitContainers ?? []))
        {
            Restrict(container);
        }

        foreach (V1Container container in spec.Containers.Where(c => c.Name == JobNames.TrainerContainer))
        {
            // The trainer writes why it stopped to the termination-message path; a crash without one still leaves its log tail.
            container.TerminationMessagePolicy ??= "FallbackToLogsOnError";
            container.Env = [.. (container.Env ?? []).Where(e => !e.Name.StartsWith(TrainerEnvironment.Prefix, StringComparison.Ordinal)), .. Environment(job, replica, worker, layout)];
            container.Ports = [.. container.Ports ?? [],
                new V1ContainerPort { ContainerPort = layout.GrpcPort(rank), Name = "grpc" },
                new V1ContainerPort { ContainerPort = layout.GrpcPort(rank) + 1, Name = "data" },
                new V1ContainerPort { ContainerPort = layout.MetricsPort(rank), Name = "metrics" }];
            container.VolumeMounts = [.. container.VolumeMounts ?? [],
                new V1VolumeMount { MountPath = JobNames.ConfigMountPath, Name = "desloc-config", ReadOnlyProperty = true },
                new V1VolumeMount { MountPath = layout.CheckpointPath, Name = "desloc-checkpoints" }];
            container.ReadinessProbe ??= new V1Probe { HttpGet = new V1HTTPGetAction { Port = layout.MetricsPort(rank), Path = "/readyz" }, PeriodSeconds = 5 };
            container.LivenessProbe ??= new V1Probe { HttpGet = new V1HTTPGetAction { Port = layout.MetricsPort(rank), Path = "/healthz" }, PeriodSeconds = 10, FailureThreshold = 6 };
        }

        return new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new V1ObjectMeta
            {
                Name = pod,
                NamespaceProperty = job.Metadata.NamespaceProperty,
                Labels = labels,
                Annotations = annotations,
                OwnerReferences = [Owner(job)],
            },
            Spec = spec,
        };
    }

    /// <summary>The operator's side of the contract's <see cref="TrainerEnvironment"/>, for replica <paramref name="index"/> (worker 0).</summary>
    public static IReadOnlyList<V1EnvVar> Environment(LowCommJob job, int index, ReplicaLayout layout) => Environment(job, index, 0, layout);

    /// <summary>
    /// The operator's side of the contract's <see cref="TrainerEnvironment"/>: the rank is the replica, the peers are
    /// every worker in global-rank order, the ports are those of the worker's global rank. The worker variables are
    /// set only with more than one worker per replica (absent, the trainer reads worker 0 of 1).
    /// </summary>
    public static IReadOnlyList<V1EnvVar> Environment(LowCommJob job, int replica, int worker, ReplicaLayout layout)
    {
        var topology = new JobTopology(job.Spec.Replicas, job.Spec.WorkersPerReplica);
        int rank = topology.GlobalRank(replica, worker);
        List<V1EnvVar> env =
        [
            new() { Name = TrainerEnvironment.Job, Value = job.Metadata.Name },
            new() { Name = TrainerEnvironment.Rank, Value = replica.ToString(CultureInfo.InvariantCulture) },
            new() { Name = TrainerEnvironment.WorldSize, Value = job.Spec.Replicas.ToString(CultureInfo.InvariantCulture) },
            new() { Name = TrainerEnvironment.Peers, Value = layout.Peers(topology.Workers) },
            new() { Name = TrainerEnvironment.Config, Value = layout.ConfigPath },
            new() { Name = TrainerEnvironment.Token, ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Key = JobNames.TokenKey, Name = JobNames.Secret(job.Metadata.Name) } } },
            new() { Name = TrainerEnvironment.GrpcPort, Value = layout.GrpcPort(rank).ToString(CultureInfo.InvariantCulture) },
            new() { Name = TrainerEnvironment.MetricsPort, Value = layout.MetricsPort(rank).ToString(CultureInfo.InvariantCulture) },
            new() { Name = TrainerEnvironment.BindAddress, Value = layout.BindAddress },
        ];
        if (job.Spec.Transport.Tls)
        {
            env.Add(new V1EnvVar { Name = TrainerEnvironment.TlsDirectory, Value = layout.TlsDirectory });
        }

        if (topology.WorkersPerReplica > 1)
        {
            env.Insert(3, new V1EnvVar { Name = TrainerEnvironment.Worker, Value = worker.ToString(CultureInfo.InvariantCulture) });
            env.Insert(4, new V1EnvVar { Name = TrainerEnvironment.WorkersPerReplica, Value = topology.WorkersPerReplica.ToString(CultureInfo.InvariantCulture) });
        }

        return env;
    }

    /// <summary>
    /// The job's placement on a pod of replica <paramref name="replica"/>. With a topology key: required pod affinity
    /// to the replica's own pods (its workers share one domain; the first one may go anywhere, as it matches its own
    /// term) and required anti-affinity to pods of the job with another replica index (replicas never share one).
    /// The replica's entry of <c>placement.replicas</c>: its nodeSelector over the template's, and its tolerations,
    /// each replacing a template toleration of the same key and effect.
    /// </summary>
    private static void Place(V1PodSpec spec, LowCommJob job, int replica)
    {
        if (job.Spec.Placement is not { } placement)
        {
            return;
        }

        string name = job.Metadata.Name;
        string index = replica.ToString(CultureInfo.InvariantCulture);
        if (placement.ReplicaTopologyKey is { Length: > 0 } key)
        {
            spec.Affinity ??= new V1Affinity();
            spec.Affinity.PodAffinity ??= new V1PodAffinity();
            spec.Affinity.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution =
            [
                .. spec.Affinity.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution ?? [],
                new V1PodAffinityTerm
                {
                    TopologyKey = key,
                    LabelSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { [JobNames.JobLabel] = name, [JobNames.ReplicaLabel] = index } },
                },
            ];
            spec.Affinity.PodAntiAffinity ??= new V1PodAntiAffinity();
            spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution =
            [
                .. spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution ?? [],
                new V1PodAffinityTerm
                {
                    TopologyKey = key,
                    LabelSelector = new V1LabelSelector
                    {
                        MatchLabels = new Dictionary<string, string> { [JobNames.JobLabel] = name },
                        MatchExpressions = [new V1LabelSelectorRequirement { Key = JobNames.ReplicaLabel, OperatorProperty = "NotIn", Values = [index] }],
                    },
                },
            ];
        }

        if (replica < placement.Replicas.Count && placement.Replicas[replica] is { } own)
        {
            if (own.NodeSelector.Count > 0)
            {
                var selector = new Dictionary<string, string>(spec.NodeSelector ?? new Dictionary<string, string>());
                foreach ((string label, string value) in own.NodeSelector)
                {
                    selector[label] = value;
                }

                spec.NodeSelector = selector;
            }

            if (own.Tolerations.Count > 0)
            {
                V1Toleration[] added = [.. own.Tolerations.Select(t => KubernetesJson.Deserialize<V1Toleration>(KubernetesJson.Serialize(t)))];
                spec.Tolerations =
                [
                    .. (spec.Tolerations ?? []).Where(t => !added.Any(a => a.Key == t.Key && a.Effect == t.Effect)),
                    .. added,
                ];
            }
        }
    }

    /// <summary>What the trainer reads from <c>DESLOC_CONFIG</c>: the contract's part of the spec, checkpoints where this layout keeps them.</summary>
    public static string TrainerConfig(LowCommJobSpec spec, ReplicaLayout layout) =>
        JobSpecJson.Serialize((JobSpec)spec with { Checkpoint = spec.Checkpoint with { Path = layout.CheckpointPath, Volume = null } });

    /// <summary>Headless, and publishing not-ready addresses: workers must find each other before they are ready.</summary>
    public static V1Service Service(LowCommJob job) => new()
    {
        ApiVersion = "v1",
        Kind = "Service",
        Metadata = ChildMetadata(job, JobNames.Service(job.Metadata.Name)),
        Spec = new V1ServiceSpec
        {
            ClusterIP = "None",
            PublishNotReadyAddresses = true,
            Selector = JobNames.Labels(job.Metadata.Name),
            Ports =
            [
                new V1ServicePort { Port = TrainerEnvironment.DefaultGrpcPort, Name = "grpc" },
                new V1ServicePort { Port = TrainerEnvironment.DefaultGrpcPort + 1, Name = "data" },
                new V1ServicePort { Port = TrainerEnvironment.DefaultMetricsPort, Name = "metrics" },
            ],
        },
    };

    /// <summary>
    /// The job's credentials (the token every gRPC call carries; the job's CA certificate, and the certificate and key
    /// every worker and the operator present) and the trainer config. The CA's private key is not kept anywhere.
    /// </summary>
    public static V1Secret Secret(LowCommJob job, JobCredentials credentials, ReplicaLayout layout) => new()
    {
        ApiVersion = "v1",
        Kind = "Secret",
        Metadata = ChildMetadata(job, JobNames.Secret(job.Metadata.Name)),
        Type = "Opaque",
        Data = new Dictionary<string, byte[]>(credentials.SecretData())
        {
            [JobNames.ConfigKey] = Encoding.UTF8.GetBytes(TrainerConfig(job.Spec, layout)),
        },
    };

    /// <summary>
    /// Ingress to the job's pods on the trainer ports (gRPC, data, metrics) from the job's own pods and from the
    /// operator's pods, and on the metrics port alone from <paramref name="metricsScraper"/> when one is named; every
    /// other ingress to them is denied. Egress is left alone.
    /// </summary>
    public static V1NetworkPolicy NetworkPolicy(LowCommJob job, OperatorPeer operatorPeer, MetricsScraperPeer? metricsScraper = null)
    {
        ArgumentNullException.ThrowIfNull(operatorPeer);
        var own = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { [JobNames.JobLabel] = job.Metadata.Name } };
        List<V1NetworkPolicyIngressRule> ingress =
        [
            new V1NetworkPolicyIngressRule
            {
                FromProperty =
                [
                    new V1NetworkPolicyPeer { PodSelector = own },
                    new V1NetworkPolicyPeer
                    {
                        NamespaceSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { [OperatorPeer.NamespaceNameLabel] = operatorPeer.Namespace } },
                        PodSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string>(operatorPeer.PodLabels) },
                    },
                ],
                Ports =
                [
                    new V1NetworkPolicyPort { Protocol = "TCP", Port = TrainerEnvironment.DefaultGrpcPort },
                    new V1NetworkPolicyPort { Protocol = "TCP", Port = TrainerEnvironment.DefaultGrpcPort + 1 },
                    new V1NetworkPolicyPort { Protocol = "TCP", Port = TrainerEnvironment.DefaultMetricsPort },
                ],
            },
        ];
        if (metricsScraper is { IsNone: false })
        {
            // A rule of its own, so the scraper reaches /metrics only: never the gRPC control plane or the data plane.
            ingress.Add(new V1NetworkPolicyIngressRule
            {
                FromProperty =
                [
                    new V1NetworkPolicyPeer
                    {
                        NamespaceSelector = metricsScraper.NamespaceLabels.Count == 0 ? null : new V1LabelSelector { MatchLabels = new Dictionary<string, string>(metricsScraper.NamespaceLabels) },
                        PodSelector = metricsScraper.PodLabels.Count == 0 ? null : new V1LabelSelector { MatchLabels = new Dictionary<string, string>(metricsScraper.PodLabels) },
                    },
                ],
                Ports = [new V1NetworkPolicyPort { Protocol = "TCP", Port = TrainerEnvironment.DefaultMetricsPort }],
            });
        }

        return new V1NetworkPolicy
        {
            ApiVersion = "networking.k8s.io/v1",
            Kind = "NetworkPolicy",
            Metadata = ChildMetadata(job, JobNames.NetworkPolicy(job.Metadata.Name)),
            Spec = new V1NetworkPolicySpec
            {
                PodSelector = own,
                PolicyTypes = ["Ingress"],
                Ingress = ingress,
            },
        };
    }

    /// <summary>
    /// Whether two NetworkPolicy specs say the same, as JSON: an absent field, null, an empty list and an empty
    /// <c>matchLabels</c> are alike (the API server drops empty maps and lists it was sent), and so are maps whose keys
    /// come in another order (it sorts them). Lists keep their order: reordered rules read as a change (one write).
    /// </summary>
    public static bool SameNetworkPolicySpec(V1NetworkPolicySpec? a, V1NetworkPolicySpec? b) =>
        JsonNode.DeepEquals(CanonicalJson(a), CanonicalJson(b));

    private static JsonNode? CanonicalJson(V1NetworkPolicySpec? spec) =>
        spec is null ? null : Canonical(JsonNode.Parse(KubernetesJson.Serialize(spec)));

    private static JsonNode? Canonical(JsonNode? node) => node switch
    {
        JsonObject obj => new JsonObject(obj
            .Select(p => (p.Key, Value: Canonical(p.Value)))
            .Where(p => p.Value is not (null or JsonArray { Count: 0 })
                && !(p.Key == "matchLabels" && p.Value is JsonObject { Count: 0 }))
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => KeyValuePair.Create(p.Key, p.Value))),
        JsonArray array => new JsonArray([.. array.Select(Canonical)]),
        _ => node?.DeepClone(),
    };

    public static V1OwnerReference Owner(LowCommJob job) => new()
    {
        ApiVersion = LowCommJob.GroupVersion,
        Kind = LowCommJob.KindName,
        Name = job.Metadata.Name,
        Uid = job.Metadata.Uid,
        BlockOwnerDeletion = true,
        Controller = true,
    };

    private static V1ObjectMeta ChildMetadata(LowCommJob job, string name) => new()
    {
        Name = name,
        NamespaceProperty = job.Metadata.NamespaceProperty,
        Labels = JobNames.Labels(job.Metadata.Name),
        OwnerReferences = [Owner(job)],
    };

    /// <summary>The config and, with TLS on, the TLS files under <c>tls/</c>: never the token (an env variable) and nothing else the Secret may hold.</summary>
    private static V1Volume ConfigVolume(string job, bool tls) => new()
    {
        Name = "desloc-config",
        Secret = new V1SecretVolumeSource
        {
            SecretName = JobNames.Secret(job),
            Items =
            [
                new V1KeyToPath { Key = JobNames.ConfigKey, Path = JobNames.ConfigKey },
                .. (tls ? (string[])[JobTlsFiles.CaFile, JobTlsFiles.CertificateFile, JobTlsFiles.KeyFile] : [])
                    .Select(file => new V1KeyToPath { Key = file, Path = $"{JobNames.TlsSubdirectory}/{file}" }),
            ],
        },
    };

    private static V1Volume CheckpointVolume(CheckpointSpec checkpoint)
    {
        if (checkpoint.Volume is { } volume)
        {
            V1Volume copy = KubernetesJson.Deserialize<V1Volume>(volume.ToJsonString());
            copy.Name = "desloc-checkpoints";
            return copy;
        }

        return new V1Volume { Name = "desloc-checkpoints", EmptyDir = new V1EmptyDirVolumeSource() };
    }

    /// <summary>Pod Security <c>restricted</c> for a container, where its template leaves a field unset.</summary>
    private static void Restrict(V1Container container)
    {
        container.SecurityContext ??= new V1SecurityContext();
        container.SecurityContext.AllowPrivilegeEscalation ??= false;
        container.SecurityContext.Capabilities ??= new V1Capabilities { Drop = ["ALL"] };
    }
}
