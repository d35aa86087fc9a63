using System.Text;
using System.Text.Json;
using DesLoc.Contract.Wire;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Reconciliation;
using DesLoc.Operator.Trainers;
using k8s.Models;

namespace DesLoc.Operator.Tests.Reconciliation;

public sealed class DesiredObjectsTests
{
    [Fact]
    public void Pod_CarriesTheEnvContract_TheTokenFromTheSecret_GpuLimits_AndAnOwner()
    {
        LowCommJob job = Jobs.New();
        V1Pod pod = DesiredObjects.Pod(job, 2, Jobs.Layout, restarts: 1);
        V1Container trainer = Assert.Single(pod.Spec.Containers);
        Dictionary<string, V1EnvVar> env = trainer.Env.ToDictionary(e => e.Name);

        Assert.Equal("train-2", pod.Metadata.Name);
        Assert.Equal("2", env["DESLOC_RANK"].Value);
        Assert.Equal("4", env["DESLOC_WORLD_SIZE"].Value);
        Assert.Equal("train", env["DESLOC_JOB"].Value);
        Assert.Equal(
            "train-0.train.ml.svc:29500,train-1.train.ml.svc:29500,train-2.train.ml.svc:29500,train-3.train.ml.svc:29500",
            env["DESLOC_PEERS"].Value);
        Assert.Equal("/etc/desloc/config.json", env["DESLOC_CONFIG"].Value);
        Assert.Null(env["DESLOC_TOKEN"].Value);
        Assert.Equal("train-desloc", env["DESLOC_TOKEN"].ValueFrom.SecretKeyRef.Name);
        Assert.Equal("token", env["DESLOC_TOKEN"].ValueFrom.SecretKeyRef.Key);
        Assert.Equal("1", trainer.Resources.Limits["nvidia.com/gpu"].ToString());
        Assert.Equal(["grpc", "data", "metrics"], trainer.Ports.Select(p => p.Name));
        Assert.Equal([29500, 29501, 9400], trainer.Ports.Select(p => p.ContainerPort));
        Assert.Equal("Never", pod.Spec.RestartPolicy);
        Assert.Equal(("train-2", "train"), (pod.Spec.Hostname, pod.Spec.Subdomain));
        Assert.Equal("1", pod.Metadata.Annotations[DesiredObjects.RestartsAnnotation]);
        V1OwnerReference owner = Assert.Single(pod.Metadata.OwnerReferences);
        Assert.True(owner.Controller);
        Assert.Equal(("LowCommJob", "job-uid"), (owner.Kind, owner.Uid));
        Assert.Equal("2", pod.Metadata.Labels[JobNames.ReplicaLabel]);
        Assert.Contains(pod.Spec.Volumes, v => v.Secret?.SecretName == "train-desloc");
        Assert.Null(job.Spec.Template.Spec.Containers[0].Env); // the template itself is left alone
    }

    [Fact]
    public void NetworkPolicy_AdmitsTheTrainerPorts_FromTheJobsPodsAndTheOperatorsOnly()
    {
        LowCommJob job = Jobs.New();
        var operatorPeer = new OperatorPeer("desloc-system", new Dictionary<string, string> { ["app.kubernetes.io/name"] = "desloc-operator", ["app.kubernetes.io/instance"] = "ops" });
        V1NetworkPolicy policy = DesiredObjects.NetworkPolicy(job, operatorPeer);
        V1NetworkPolicyIngressRule rule = Assert.Single(policy.Spec.Ingress);

        Assert.Equal(("train-desloc", "ml"), (policy.Metadata.Name, policy.Metadata.NamespaceProperty));
        Assert.Equal(("LowCommJob", "job-uid", true), (policy.Metadata.OwnerReferences[0].Kind, policy.Metadata.OwnerReferences[0].Uid, policy.Metadata.OwnerReferences[0].Controller));
        Assert.Equal(new Dictionary<string, string> { ["desloc.dev/job-name"] = "train" }, policy.Spec.PodSelector.MatchLabels);
        Assert.Equal(["Ingress"], policy.Spec.PolicyTypes);
        Assert.Equal(2, rule.FromProperty.Count);
        Assert.Equal(policy.Spec.PodSelector.MatchLabels, rule.FromProperty[0].PodSelector.MatchLabels);
        Assert.Null(rule.FromProperty[0].NamespaceSelector); // the job's own namespace
        Assert.Equal(new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = "desloc-system" }, rule.FromProperty[1].NamespaceSelector.MatchLabels);
        Assert.Equal(operatorPeer.PodLabels, rule.FromProperty[1].PodSelector.MatchLabels);
        Assert.Equal(["TCP:29500", "TCP:29501", "TCP:9400"], rule.Ports.Select(p => $"{p.Protocol}:{p.Port}"));
        // The ports are those the pods listen on.
        Assert.Equal(rule.Ports.Select(p => p.Port.ToString()), DesiredObjects.Pod(job, 0, Jobs.Layout, 0).Spec.Containers[0].Ports.Select(p => p.ContainerPort.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void SameNetworkPolicySpec_IgnoresWhatTheApiServerDropsOrSorts_ButSeesANewRule()
    {
        LowCommJob job = Jobs.New();
        var operatorPeer = new OperatorPeer("desloc-system", new Dictionary<string, string>()); // matchLabels: {}
        var scraper = new MetricsScraperPeer(
            new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = "monitoring" },
            new Dictionary<string, string> { ["app.kubernetes.io/name"] = "prometheus", ["app.kubernetes.io/instance"] = "k8s" });
        V1NetworkPolicySpec plain = DesiredObjects.NetworkPolicy(job, operatorPeer).Spec;
        V1NetworkPolicySpec scraped = DesiredObjects.NetworkPolicy(job, operatorPeer, scraper).Spec;

        // What a real API server sends back: the empty matchLabels gone, map keys sorted, fields in its own order.
        const string served = """
            {"ingress":[{"from":[{"podSelector":{"matchLabels":{"desloc.dev/job-name":"train"}}},
              {"podSelector":{},"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"desloc-system"}}}],
              "ports":[{"port":29500,"protocol":"TCP"},{"port":29501,"protocol":"TCP"},{"port":9400,"protocol":"TCP"}]},
              {"from":[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"monitoring"}},
                "podSelector":{"matchLabels":{"app.kubernetes.io/instance":"k8s","app.kubernetes.io/name":"prometheus"}}}],
              "ports":[{"protocol":"TCP","port":9400}]}],
             "policyTypes":["Ingress"],"podSelector":{"matchLabels":{"desloc.dev/job-name":"train"}}}
            """;
        V1NetworkPolicySpec roundTripped = k8s.KubernetesJson.Deserialize<V1NetworkPolicySpec>(served);

        Assert.True(DesiredObjects.SameNetworkPolicySpec(scraped, roundTripped));
        Assert.True(DesiredObjects.SameNetworkPolicySpec(scraped, DesiredObjects.NetworkPolicy(job, operatorPeer, scraper).Spec));
        Assert.False(DesiredObjects.SameNetworkPolicySpec(plain, roundTripped)); // the scraper's rule is missing
        Assert.False(DesiredObjects.SameNetworkPolicySpec(plain, scraped));
        Assert.False(DesiredObjects.SameNetworkPolicySpec(plain, DesiredObjects.NetworkPolicy(job, operatorPeer with { PodLabels = new Dictionary<string, string> { ["app"] = "op" } }).Spec));
        Assert.False(DesiredObjects.SameNetworkPolicySpec(plain, null));
    }

    [Fact]
    public void NetworkPolicy_AdmitsNoMetricsScraper_ByDefault()
    {
        LowCommJob job = Jobs.New();
        var operatorPeer = new OperatorPeer("desloc-system", new Dictionary<string, string>());

        Assert.Single(DesiredObjects.NetworkPolicy(job, operatorPeer).Spec.Ingress);
        Assert.Single(DesiredObjects.NetworkPolicy(job, operatorPeer, MetricsScraperPeer.None).Spec.Ingress);
        Assert.True(ServeCommand.Read(OperatorCommandLine.Parse(["serve"])).Options.MetricsScraper.IsNone);
    }

    [Fact]
    public void NetworkPolicy_AdmitsTheMetricsScraper_ToTheMetricsPortOnly_WithTheGivenSelectors()
    {
        LowCommJob job = Jobs.New();
        var operatorPeer = new OperatorPeer("desloc-system", new Dictionary<string, string>());
        MetricsScraperPeer scraper = ServeCommand.Read(OperatorCommandLine.Parse(["serve",
            "--metrics-scraper-namespace-labels", "kubernetes.io/metadata.name=monitoring",
            "--metrics-scraper-pod-labels=app.kubernetes.io/name=prometheus,app.kubernetes.io/instance=k8s"])).Options.MetricsScraper;

        V1NetworkPolicy policy = DesiredObjects.NetworkPolicy(job, operatorPeer, scraper);

        Assert.Equal(2, policy.Spec.Ingress.Count);
        Assert.Equal(3, policy.Spec.Ingress[0].Ports.Count); // the job's and the operator's rule is unchanged
        V1NetworkPolicyIngressRule rule = policy.Spec.Ingress[1];
        Assert.Equal(["TCP:9400"], rule.Ports.Select(p => $"{p.Protocol}:{p.Port}"));
        V1NetworkPolicyPeer peer = Assert.Single(rule.FromProperty);
        Assert.Equal(new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = "monitoring" }, peer.NamespaceSelector.MatchLabels);
        Assert.Equal(new Dictionary<string, string> { ["app.kubernetes.io/name"] = "prometheus", ["app.kubernetes.io/instance"] = "k8s" }, peer.PodSelector.MatchLabels);
        // The metrics port is the one the trainer serves /metrics on.
        Assert.Equal(9400, DesiredObjects.Pod(job, 0, Jobs.Layout, 0).Spec.Containers[0].Ports.Single(p => p.Name == "metrics").ContainerPort);

        // One selector alone leaves the other out: a whole namespace, or those pods in the job's own namespace.
        V1NetworkPolicyPeer namespaceOnly = DesiredObjects.NetworkPolicy(job, operatorPeer, scraper with { PodLabels = new Dictionary<string, string>() }).Spec.Ingress[1].FromProperty.Single();
        V1NetworkPolicyPeer podsOnly = DesiredObjects.NetworkPolicy(job, operatorPeer, scraper with { NamespaceLabels = new Dictionary<string, string>() }).Spec.Ingress[1].FromProperty.Single();
        Assert.Equal((true, false), (namespaceOnly.NamespaceSelector is not null, namespaceOnly.PodSelector is not null));
        Assert.Equal((false, true), (podsOnly.NamespaceSelector is not null, podsOnly.PodSelector is not null));
    }

    [Fact]
    public void OperatorPodLabels_ParseFromTheFlag_AndRefuseMalformedPairs()
    {
        Assert.Equal(new Dictionary<string, string> { ["a"] = "b", ["c/d"] = "e" }, OperatorPeer.ParseLabels("a=b, c/d=e"));
        Assert.Empty(OperatorPeer.ParseLabels(null)!);
        Assert.Null(OperatorPeer.ParseLabels("a=b,c"));
    }

    [Theory]
    [InlineData("app.kubernetes.io/name", "prometheus")]
    [InlineData("kubernetes.io/metadata.name", "monitoring")]
    [InlineData("scrape", "")]                                                   // an empty value is a value
    [InlineData("A_b.c-9", "X_y.z-0")]
    [InlineData("a123456789b123456789c123456789d123456789e123456789f123456789g12", "a123456789b123456789c123456789d123456789e123456789f123456789g12")] // 63: the most
    public void LabelSyntax_AcceptsWhatTheApiServerAccepts(string key, string value) =>
        Assert.Null(LabelSyntax.Problem(key, value));

    [Theory]
    [InlineData("a b", "x", "label key 'a b' has a name that is not")]
    [InlineData("", "x", "label key '' has an empty name")]
    [InlineData("-app", "x", "label key '-app' has a name that is not")]
    [InlineData("example.com/", "x", "label key 'example.com/' has an empty name")]
    [InlineData("/app", "x", "label key '/app' has an empty prefix")]
    [InlineData("a/b/c", "x", "label key 'a/b/c' has more than one '/'")]
    [InlineData("Example.com/app", "x", "label key 'Example.com/app' has a prefix that is not a DNS subdomain")]
    [InlineData("example..com/app", "x", "label key 'example..com/app' has a prefix that is not a DNS subdomain")]
    [InlineData("a123456789b123456789c123456789d123456789e123456789f123456789g123", "x", "label key 'a123456789b123456789c123456789d123456789e123456789f123456789g123' has a name longer than 63 characters")]
    [InlineData("app", "a123456789b123456789c123456789d123456789e123456789f123456789g123", "label value 'a123456789b123456789c123456789d123456789e123456789f123456789g123' (of 'app') is longer than 63 characters")]
    [InlineData("app", "x y", "label value 'x y' (of 'app') is neither empty nor")]
    [InlineData("app", "x.", "label value 'x.' (of 'app') is neither empty nor")]
    public void LabelSyntax_RefusesWhatTheApiServerRefuses_NamingTheKeyOrValue(string key, string value, string problem) =>
        Assert.StartsWith(problem, LabelSyntax.Problem(key, value), StringComparison.Ordinal);

    [Fact]
    public void LabelSyntax_PrefixMayBe253Characters_NotMore()
    {
        string longest = $"{new string('a', 63)}.{new string('b', 63)}.{new string('c', 63)}.{new string('d', 61)}";
        Assert.Equal(253, longest.Length);
        Assert.Null(LabelSyntax.Problem($"{longest}/app", ""));
        Assert.Equal($"label key '{longest}dd/app' has a prefix longer than 253 characters", LabelSyntax.Problem($"{longest}dd/app", ""));
    }

    [Fact]
    public void OperatorPodLabels_RefuseKeysAndValuesTheApiServerWouldRefuse()
    {
        Assert.Null(OperatorPeer.ParseLabels("a b=c", out string? problem));
        Assert.Equal("takes Kubernetes labels, and label key 'a b' has a name that is not alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character", problem);
        Assert.Equal(new Dictionary<string, string> { ["app.kubernetes.io/name"] = "prometheus", ["x"] = "" }, OperatorPeer.ParseLabels("app.kubernetes.io/name=prometheus,x=", out problem));
        Assert.Null(problem);
    }

    [Fact]
    public void Pod_MountsTheJobsTlsFiles_ButNotTheToken_AndTurnsThemOffWithTls()
    {
        V1Pod pod = DesiredObjects.Pod(Jobs.New(), 0, Jobs.Layout, restarts: 0);
        V1Pod cleartext = DesiredObjects.Pod(Jobs.New(edit: s => s with { Transport = new TransportSpec { Tls = false } }), 0, Jobs.Layout, restarts: 0);
        V1Volume config = pod.Spec.Volumes.Single(v => v.Secret?.SecretName == "train-desloc");

        Assert.Equal("/etc/desloc/tls", pod.Spec.Containers[0].Env.Single(e => e.Name == "DESLOC_TLS_DIR").Value);
        Assert.Equal(["config.json", "tls/ca.crt", "tls/tls.crt", "tls/tls.key"], config.Secret.Items.Select(i => i.Path));
        Assert.DoesNotContain(cleartext.Spec.Containers[0].Env, e => e.Name == "DESLOC_TLS_DIR");
        Assert.Equal(["config.json"], cleartext.Spec.Volumes.Single(v => v.Secret?.SecretName == "train-desloc").Secret.Items.Select(i => i.Path));
        Assert.Equal(["*.train.ml.svc", "*.train.ml.svc.cluster.local", "localhost", "127.0.0.1"], Jobs.Layout.CertificateNames);
    }

    [Fact]
    public void ServiceIsHeadless_AndSecretHoldsTokenAndTheContractsPartOfTheSpec()
    {
        LowCommJob job = Jobs.New(edit: s => s with { Sync = new SyncSpec { Adaptive = new AdaptiveSyncSpec { Enabled = true } } });
        V1Service service = DesiredObjects.Service(job);
        JobTlsFiles tls = JobTlsFiles.Issue("ml/train", Jobs.Layout.CertificateNames, DateTimeOffset.UtcNow);
        V1Secret secret = DesiredObjects.Secret(job, new JobCredentials("s3cret", tls), Jobs.Layout);

        Assert.Equal("None", service.Spec.ClusterIP);
        Assert.True(service.Spec.PublishNotReadyAddresses);
        Assert.Equal([29500, 29501, 9400], service.Spec.Ports.Select(p => p.Port));
        Assert.Equal("s3cret", Encoding.UTF8.GetString(secret.Data["token"]));
        Assert.Equal(["ca.crt", "config.json", "tls.crt", "tls.key", "token"], secret.Data.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(tls, JobCredentials.FromSecret(secret)!.Tls);
        using JsonDocument config = JsonDocument.Parse(secret.Data["config.json"]);
        Assert.Equal(4, config.RootElement.GetProperty("replicas").GetInt32());
        Assert.Equal("/checkpoints", config.RootElement.GetProperty("checkpoint").GetProperty("path").GetString());
        Assert.Equal("DESLOC", config.RootElement.GetProperty("algorithm").GetProperty("type").GetString());
        // The operator's own fields stay out; the contract's travel whole (the trainer refuses fields it does not know).
        Assert.False(config.RootElement.TryGetProperty("template", out _));
        Assert.False(config.RootElement.TryGetProperty("suspend", out _));
        Assert.True(config.RootElement.GetProperty("sync").GetProperty("adaptive").GetProperty("enabled").GetBoolean());
    }

    [Fact]
    public void Pod_MeetsPodSecurityRestricted_MountsNoServiceAccountToken_AndKeepsTheTrainersLastWords()
    {
        V1Pod pod = DesiredObjects.Pod(Jobs.New(), 0, Jobs.Layout, restarts: 0);
        V1Container trainer = pod.Spec.Containers.Single(c => c.Name == "trainer");

        Assert.False(pod.Spec.AutomountServiceAccountToken);
        Assert.True(pod.Spec.SecurityContext.RunAsNonRoot);
        Assert.Equal("RuntimeDefault", pod.Spec.SecurityContext.SeccompProfile.Type);
        Assert.False(trainer.SecurityContext.AllowPrivilegeEscalation);
        Assert.Equal(["ALL"], trainer.SecurityContext.Capabilities.Drop);
        Assert.Equal("FallbackToLogsOnError", trainer.TerminationMessagePolicy);
    }

    [Fact]
    public void Pod_KeepsWhatTheTemplateSetsItself()
    {
        LowCommJob job = Jobs.New();
        job.Spec.Template.Spec.AutomountServiceAccountToken = true;
        job.Spec.Template.Spec.Containers[0].SecurityContext = new V1SecurityContext { RunAsUser = 1000, AllowPrivilegeEscalation = true };

        V1Pod pod = DesiredObjects.Pod(job, 0, Jobs.Layout, restarts: 0);

        Assert.True(pod.Spec.AutomountServiceAccountToken);
        Assert.True(pod.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation);
        Assert.Equal(1000, pod.Spec.Containers[0].SecurityContext.RunAsUser);
    }
}
