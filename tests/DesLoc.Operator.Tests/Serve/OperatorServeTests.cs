using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Kubernetes;
using DesLoc.Operator.Metrics;
using DesLoc.Operator.Tests.ApiServer;
using DesLoc.Testing;
using k8s;
using k8s.Models;

namespace DesLoc.Operator.Tests.Serve;

/// <summary>
/// `serve` against a test API server that speaks the Kubernetes REST protocol, through the real KubernetesClient and
/// kubectl: what a user of Kubeflow's operators expects from applying, failing, suspending and deleting jobs.
/// </summary>
public sealed class OperatorServeTests
{
    private const double Timeout = 20;

    [Fact]
    public async Task KubectlApplyOfTheGpuSample_CreatesPodsWithTheEnvTokenGpuLimitsAndPlacement_TheServiceAndTheSecret_AndStatusFollowsThePods()
    {
        await using ServeHarness harness = await ServeHarness.StartAsync();
        var metrics = new OperatorMetrics();
        harness.StartOperator(metrics: metrics);
        (int code, string output, string err) = await Kubectl.RunAsync(harness.Server, harness.WorkDir, "apply", "-n", "ml", "-f", RepositoryFiles.Path("samples", "gpu.yaml"));
        Assert.True(code == 0, output + err);

        const string job = "gpt-gpu";
        await Eventually.TrueAsync(() => harness.Pods(job).Count == 4, "four pods exist", Timeout);
        V1Pod pod = KubernetesJson.Deserialize<V1Pod>(harness.Pods(job).Single(p => p["metadata"]!["name"]!.GetValue<string>() == "gpt-gpu-1").ToJsonString());
        V1Container trainer = Assert.Single(pod.Spec.Containers);
        Dictionary<string, V1EnvVar> env = trainer.Env.ToDictionary(e => e.Name);
        Assert.Equal("1", env["DESLOC_RANK"].Value);
        Assert.Equal("4", env["DESLOC_WORLD_SIZE"].Value);
        Assert.StartsWith("gpt-gpu-0.gpt-gpu.ml.svc:29500,", env["DESLOC_PEERS"].Value, StringComparison.Ordinal);
        Assert.Equal("gpt-gpu-desloc", env["DESLOC_TOKEN"].ValueFrom.SecretKeyRef.Name);
        Assert.Equal("1", trainer.Resources.Limits["nvidia.com/gpu"].ToString());
        Assert.Equal("true", pod.Spec.NodeSelector["nvidia.com/gpu.present"]);
        Assert.Contains(pod.Spec.Tolerations, t => t.Key == "nvidia.com/gpu" && t.Effect == "NoSchedule");
        Assert.Contains(pod.Spec.Volumes, v => v.PersistentVolumeClaim?.ClaimName == "desloc-checkpoints");
        Assert.Contains(trainer.VolumeMounts, m => m.MountPath == "/data");

        JsonNode service = harness.Server.Get("v1", "services", "ml", job) ?? throw new Xunit.Sdk.XunitException("no Service");
        Assert.Equal("None", service["spec"]!["clusterIP"]!.GetValue<string>());
        JsonNode secret = harness.Server.Get("v1", "secrets", "ml", "gpt-gpu-desloc") ?? throw new Xunit.Sdk.XunitException("no Secret");
        string token = Encoding.UTF8.GetString(Convert.FromBase64String(secret["data"]!["token"]!.GetValue<string>()));
        Assert.Equal(64, token.Length);
        Assert.Contains("BEGIN CERTIFICATE", Encoding.UTF8.GetString(Convert.FromBase64String(secret["data"]!["ca.crt"]!.GetValue<string>())), StringComparison.Ordinal);
        JsonNode policy = harness.Server.Get("networking.k8s.io/v1", "networkpolicies", "ml", "gpt-gpu-desloc") ?? throw new Xunit.Sdk.XunitException("no NetworkPolicy");
        Assert.Equal(job, policy["spec"]!["podSelector"]!["matchLabels"]!["desloc.dev/job-name"]!.GetValue<string>());
        string uid = harness.Job(job)!["metadata"]!["uid"]!.GetValue<string>();
        Assert.All(harness.Pods(job).Append(service).Append(secret).Append(policy), child => Assert.Equal(uid, child["metadata"]!["ownerReferences"]![0]!["uid"]!.GetValue<string>()));

        harness.SetAllPods(job, "Running");
        await Eventually.TrueAsync(() => harness.Phase(job) == "Running", "the job is Running", Timeout);
        Assert.Equal("4/4", harness.Job(job)!["status"]!["ready"]!.GetValue<string>());
        (code, string table, err) = await Kubectl.RunAsync(harness.Server, harness.WorkDir, "get", "lcj", "-n", "ml");
        Assert.True(code == 0, err);
        Assert.Matches(@"gpt-gpu\s+Running\s+4/4", table);

        using var scrape = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(scrape);
        string exposition = Encoding.UTF8.GetString(scrape.ToArray());
        Assert.Contains("desloc_operator_jobs{phase=\"Running\"} 1", exposition);
        Assert.Contains("desloc_operator_leader 1", exposition);
        Assert.Matches("desloc_operator_reconcile_total\\{result=\"success\"\\} [1-9]", exposition);
    }

    /// <summary>
    /// A job's NetworkPolicy made before the operator was given a metrics scraper gains the scraper's rule when the
    /// operator restarts with one (a PUT under the policy's resourceVersion; a 409 on it is retried), and once it matches
    /// it is not written again, however often the job is reconciled.
    /// </summary>
    [Fact]
    public async Task NetworkPolicy_MadeWithoutAScraper_GainsTheScrapersRule_WhenTheOperatorGetsOne_AndIsNotRewrittenOnceItMatches()
    {
        const string job = "scraped";
        const string policies = "/namespaces/ml/networkpolicies/";
        await using ServeHarness harness = await ServeHarness.StartAsync();
        KubernetesOperator first = harness.StartOperator();
        await harness.CreateAsync(ServeHarness.Manifest(job));
        await Eventually.TrueAsync(() => harness.Server.Get("networking.k8s.io/v1", "networkpolicies", "ml", "scraped-desloc") is not null, "the NetworkPolicy exists", Timeout);
        await Eventually.TrueAsync(() => harness.Pods(job).Count == 3, "three pods exist", Timeout);
        JsonNode before = harness.Server.Get("networking.k8s.io/v1", "networkpolicies", "ml", "scraped-desloc")!;
        Assert.Single(before["spec"]!["ingress"]!.AsArray());
        await harness.StopOperatorAsync(first);
        Assert.Equal(0, harness.Server.CountRequests("PUT", policies));

        harness.Server.FailNext("PUT", policies, 409); // another writer got there first: the reconcile is redone
        harness.StartOperator(identity: "operator-b", metricsScraper: new DesLoc.Operator.Reconciliation.MetricsScraperPeer(
            new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = "monitoring" },
            new Dictionary<string, string> { ["app.kubernetes.io/name"] = "prometheus" }));
        await Eventually.TrueAsync(
            () => harness.Server.Get("networking.k8s.io/v1", "networkpolicies", "ml", "scraped-desloc")!["spec"]!["ingress"]!.AsArray().Count == 2,
            "the NetworkPolicy has the scraper's rule", Timeout);

        V1NetworkPolicy after = KubernetesJson.Deserialize<V1NetworkPolicy>(harness.Server.Get("networking.k8s.io/v1", "networkpolicies", "ml", "scraped-desloc")!.ToJsonString());
        V1NetworkPolicyIngressRule scraper = after.Spec.Ingress[1];
        Assert.Equal(["TCP:9400"], scraper.Ports.Select(p => $"{p.Protocol}:{p.Port}"));
        Assert.Equal("monitoring", scraper.FromProperty.Single().NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]);
        Assert.Equal("prometheus", scraper.FromProperty.Single().PodSelector.MatchLabels["app.kubernetes.io/name"]);
        Assert.Equal(before["spec"]!["ingress"]![0]!.ToJsonString(), KubernetesJson.Serialize(after.Spec.Ingress[0]));
        Assert.Equal(before["metadata"]!["uid"]!.GetValue<string>(), after.Metadata.Uid); // replaced in place, still the job's
        Assert.Equal(harness.Job(job)!["metadata"]!["uid"]!.GetValue<string>(), after.Metadata.OwnerReferences.Single().Uid);
        Assert.Equal(2, harness.Server.CountRequests("PUT", policies)); // the refused one and the one that took

        // Reconciles that change nothing leave the policy alone: the pods start, the job goes Running (status writes).
        int statusWrites = harness.Server.CountRequests("PUT", "/status");
        harness.SetAllPods(job, "Running");
        await Eventually.TrueAsync(() => harness.Phase(job) == "Running", "the job is Running", Timeout);
        Assert.True(harness.Server.CountRequests("PUT", "/status") > statusWrites);
        Assert.Equal(2, harness.Server.CountRequests("PUT", policies));
        Assert.Equal(0, harness.Server.CountRequests("PATCH", policies));
        Assert.Equal(after.Metadata.ResourceVersion, harness.Server.Get("networking.k8s.io/v1", "networkpolicies", "ml", "scraped-desloc")!["metadata"]!["resourceVersion"]!.GetValue<string>());
    }

    /// <summary>
    /// Two replicas of two workers (samples/two-tier.yaml): four pods read back through the real client with their
    /// names, env and placement; `kubectl get lcj` shows replicas and workers ready; a failed worker is replaced alone.
    /// </summary>
    [Fact]
    public async Task KubectlApplyOfTheTwoTierSample_CreatesAPodPerWorkerPlacedByReplica_KubectlShowsWorkers_AndAFailedWorkerIsReplacedAlone()
    {
        await using ServeHarness harness = await ServeHarness.StartAsync();
        harness.StartOperator();
        (int code, string output, string err) = await Kubectl.RunAsync(harness.Server, harness.WorkDir, "apply", "-n", "ml", "-f", RepositoryFiles.Path("samples", "two-tier.yaml"));
        Assert.True(code == 0, output + err);

        const string job = "two-tier";
        string[] names = ["two-tier-0-0", "two-tier-0-1", "two-tier-1-0", "two-tier-1-1"];
        await Eventually.TrueAsync(() => harness.Pods(job).Count == 4, "four pods exist", Timeout);
        const string peers = "two-tier-0-0.two-tier.ml.svc:29500,two-tier-0-1.two-tier.ml.svc:29500,two-tier-1-0.two-tier.ml.svc:29500,two-tier-1-1.two-tier.ml.svc:29500";
        foreach (string name in names)
        {
            V1Pod pod = await harness.Client.CoreV1.ReadNamespacedPodAsync(name, "ml");
            string replica = name[9..10];
            string worker = name[11..12];
            Assert.Equal((replica, worker), (pod.Metadata.Labels["desloc.dev/replica-index"], pod.Metadata.Labels["desloc.dev/worker-index"]));
            Assert.Equal((name, job), (pod.Spec.Hostname, pod.Spec.Subdomain));
            Dictionary<string, string> env = pod.Spec.Containers.Single().Env.Where(e => e.Value is not null).ToDictionary(e => e.Name, e => e.Value);
            Assert.Equal((replica, "2", worker, "2", peers),
                (env["DESLOC_RANK"], env["DESLOC_WORLD_SIZE"], env["DESLOC_WORKER"], env["DESLOC_WORKERS_PER_REPLICA"], env["DESLOC_PEERS"]));

            V1PodAffinityTerm together = Assert.Single(pod.Spec.Affinity.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution);
            Assert.Equal("topology.kubernetes.io/zone", together.TopologyKey);
            Assert.Equal(replica, together.LabelSelector.MatchLabels["desloc.dev/replica-index"]);
            V1PodAffinityTerm apart = Assert.Single(pod.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution);
            Assert.Equal("topology.kubernetes.io/zone", apart.TopologyKey);
            Assert.Equal(job, apart.LabelSelector.MatchLabels["desloc.dev/job-name"]);
            V1LabelSelectorRequirement notMine = Assert.Single(apart.LabelSelector.MatchExpressions);
            Assert.Equal(("desloc.dev/replica-index", "NotIn", replica), (notMine.Key, notMine.OperatorProperty, Assert.Single(notMine.Values)));

            Assert.Equal(replica == "0" ? "europe-west4-a" : "us-central1-b", pod.Spec.NodeSelector["topology.kubernetes.io/zone"]);
            Assert.Contains(pod.Spec.Tolerations, t => t.Key == "nvidia.com/gpu" && t.OperatorProperty == "Exists");
            Assert.Equal(replica == "1", pod.Spec.Tolerations.Any(t => t.Key == "dedicated" && t.Value == "desloc" && t.Effect == "NoSchedule"));
        }

        harness.SetAllPods(job, "Running");
        await Eventually.TrueAsync(() => harness.Phase(job) == "Running", "the job is Running", Timeout);
        (code, string table, err) = await Kubectl.RunAsync(harness.Server, harness.WorkDir, "get", "lcj", "-n", "ml");
        Assert.True(code == 0, err);
        Assert.Matches(@"(?m)^NAME\s+PHASE\s+READY\s+WORKERS\s+", table);
        Assert.Matches(@"two-tier\s+Running\s+2/2\s+4/4", table);

        Dictionary<string, string> uids = harness.Pods(job).ToDictionary(p => p["metadata"]!["name"]!.GetValue<string>(), p => p["metadata"]!["uid"]!.GetValue<string>());
        harness.Server.SetPodPhase("ml", "two-tier-1-1", "Failed", exitCode: 137, reason: "OOMKilled");
        await Eventually.TrueAsync(() => harness.Job(job)?["status"]?["workersReady"]?.GetValue<string>() == "3/4", "three of four workers are ready", Timeout);
        (_, table, _) = await Kubectl.RunAsync(harness.Server, harness.WorkDir, "get", "lcj", "-n", "ml");
        Assert.Matches(@"two-tier\s+\w+\s+1/2\s+3/4", table);
        await Eventually.TrueAsync(
            () => harness.Pods(job).Any(p => p["metadata"]!["name"]!.GetValue<string>() == "two-tier-1-1" && p["metadata"]!["uid"]!.GetValue<string>() != uids["two-tier-1-1"]),
            "worker 1 of replica 1 is recreated", Timeout);
        Dictionary<string, string> after = harness.Pods(job).ToDictionary(p => p["metadata"]!["name"]!.GetValue<string>(), p => p["metadata"]!["uid"]!.GetValue<string>());
        Assert.All(names.Take(3), name => Assert.Equal(uids[name], after[name]));
        JsonNode replicaOne = harness.Job(job)!["status"]!["replicas"]![1]!;
        Assert.Equal(1, replicaOne["restarts"]!.GetValue<int>());
        JsonArray workers = replicaOne["workers"]!.AsArray();
        Assert.Equal((0, 1), (workers[0]!["restarts"]!.GetValue<int>(), workers[1]!["restarts"]!.GetValue<int>()));
        Assert.Equal("two-tier-1-1", workers[1]!["pod"]!.GetValue<string>());
        Assert.Equal(137, workers[1]!["lastExitCode"]!.GetValue<int>());
        Assert.Equal(0, harness.Job(job)!["status"]!["replicas"]![0]!["restarts"]!.GetValue<int>());
    }

    [Fact]
    public async Task FailedPod_IsReplacedAloneAfterTheBackoff_WithAnEvent_AndPastMaxRestartsTheJobFails()
    {
        await using ServeHarness harness = await ServeHarness.StartAsync();
        harness.StartOperator();
        await harness.CreateAsync(ServeHarness.Manifest("flaky"));
        await Eventually.TrueAsync(() => harness.Pods("flaky").Count == 3, "three pods exist", Timeout);
        harness.SetAllPods("flaky", "Running");
        await Eventually.TrueAsync(() => harness.Phase("flaky") == "Running", "the job is Running", Timeout);
        Dictionary<string, string> uids = harness.Pods("flaky").ToDictionary(p => p["metadata"]!["name"]!.GetValue<string>(), p => p["metadata"]!["uid"]!.GetValue<string>());

        harness.Server.SetPodPhase("ml", "flaky-1", "Failed", exitCode: 137, reason: "OOMKilled");
        await Eventually.TrueAsync(() => harness.Job("flaky")?["status"]?["restarts"]?.GetValue<int>() == 1, "the restart is counted", Timeout);
        await Eventually.TrueAsync(() => harness.Events("flaky").Any(e => e.Reason == "ReplicaFailed" && e.Type == "Warning" && e.Message.Contains("exited with code 137", StringComparison.Ordinal)), "an Event is recorded", Timeout);
        await Eventually.TrueAsync(
            () => harness.Pods("flaky").Any(p => p["metadata"]!["name"]!.GetValue<string>() == "flaky-1" && p["metadata"]!["uid"]!.GetValue<string>() != uids["flaky-1"]),
            "replica 1 is recreated", Timeout);
        Dictionary<string, string> after = harness.Pods("flaky").ToDictionary(p => p["metadata"]!["name"]!.GetValue<string>(), p => p["metadata"]!["uid"]!.GetValue<string>());
        Assert.Equal(uids["flaky-0"], after["flaky-0"]);
        Assert.Equal(uids["flaky-2"], after["flaky-2"]);
        await Eventually.TrueAsync(() => harness.Events("flaky").Any(e => e.Reason == "ReplicaRestarted"), "an Event is recorded", Timeout);
        Assert.Equal(1, harness.Job("flaky")!["status"]!["replicas"]![1]!["restarts"]!.GetValue<int>());

        harness.Server.SetPodPhase("ml", "flaky-1", "Failed", exitCode: 1);
        await Eventually.TrueAsync(() => harness.Phase("flaky") == "Failed", "the job fails", Timeout);
        Assert.Contains("more than maxRestarts (1)", harness.Job("flaky")!["status"]!["message"]!.GetValue<string>());
        await Eventually.TrueAsync(() => harness.Events("flaky").Any(e => e.Reason == "MaxRestartsExceeded"), "an Event is recorded", Timeout);
        await Eventually.TrueAsync(() => harness.Pods("flaky").Count == 1, "the running pods are deleted, the failed one kept for its logs", Timeout);
    }

    [Fact]
    public async Task SuspendAndResume_Deadline_Ttl_AndDelete_BehaveAsKubeflowUsersExpect()
    {
        await using ServeHarness harness = await ServeHarness.StartAsync();
        harness.StartOperator();
        await harness.CreateAsync(ServeHarness.Manifest("pausable"));
        await Eventually.TrueAsync(() => harness.Pods("pausable").Count == 3, "pods exist", Timeout);

        await Patch(harness, "pausable", """{"spec": {"suspend": true}}""");
        await Eventually.TrueAsync(() => harness.Phase("pausable") == "Suspended" && harness.Pods("pausable").Count == 0, "suspended, pods gone", Timeout);
        await Eventually.TrueAsync(() => harness.Events("pausable").Any(e => e.Reason == "Suspended"), "an Event is recorded", Timeout);
        await Patch(harness, "pausable", """{"spec": {"suspend": false}}""");
        await Eventually.TrueAsync(() => harness.Pods("pausable").Count == 3, "pods are back", Timeout);
        await Eventually.TrueAsync(() => harness.Events("pausable").Any(e => e.Reason == "Resumed"), "an Event is recorded", Timeout);

        await harness.Client.CustomObjects.DeleteNamespacedCustomObjectAsync(LowCommJob.Group, LowCommJob.Version, "ml", LowCommJob.Plural, "pausable");
        await Eventually.TrueAsync(
            () => harness.Pods("pausable").Count == 0 && harness.Server.Get("v1", "services", "ml", "pausable") is null && harness.Server.Get("v1", "secrets", "ml", "pausable-desloc") is null,
            "deleting the job deletes its children", Timeout);

        await harness.CreateAsync(ServeHarness.Manifest("late", "  activeDeadlineSeconds: 1"));
        await Eventually.TrueAsync(() => harness.Phase("late") == "Failed", "the deadline fails the job", Timeout);
        Assert.Contains(harness.Job("late")!["status"]!["conditions"]!.AsArray(), c => c!["reason"]!.GetValue<string>() == "DeadlineExceeded");
        await Eventually.TrueAsync(() => harness.Pods("late").Count == 0, "its pods are deleted", Timeout);

        await harness.CreateAsync(ServeHarness.Manifest("short-lived", "  ttlSecondsAfterFinished: 1"));
        await Eventually.TrueAsync(() => harness.Pods("short-lived").Count == 3, "pods exist", Timeout);
        harness.Server.SetPodPhase("ml", "short-lived-0", "Succeeded", exitCode: 0);
        await Eventually.TrueAsync(() => harness.Phase("short-lived") == "Succeeded", "the job succeeds when rank 0 finishes", Timeout);
        await Eventually.TrueAsync(() => harness.Job("short-lived") is null && harness.Pods("short-lived").Count == 0, "the TTL deletes the job and its pods", Timeout);
    }

    [Fact]
    public async Task TwoOperators_OneLeads_AndTheOtherTakesOverWithinTheLeaseTime()
    {
        await using ServeHarness harness = await ServeHarness.StartAsync();
        KubernetesOperator a = harness.StartOperator("operator-a", leaderElection: true);
        await Eventually.TrueAsync(() => a.IsLeader && a.Synced, "the first operator leads", Timeout);
        KubernetesOperator b = harness.StartOperator("operator-b", leaderElection: true);
        await Task.Delay(1500);
        Assert.False(b.IsLeader);

        await harness.CreateAsync(ServeHarness.Manifest("first"));
        await Eventually.TrueAsync(() => harness.Pods("first").Count == 3, "the leader reconciles", Timeout);

        var clock = Stopwatch.StartNew();
        await harness.StopOperatorAsync(a);
        await Eventually.TrueAsync(() => b.IsLeader && b.Synced, "the standby takes over", Timeout);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"took over in {clock.Elapsed}, the lease is 4 s");
        await harness.CreateAsync(ServeHarness.Manifest("second"));
        await Eventually.TrueAsync(() => harness.Pods("second").Count == 3, "the new leader reconciles", Timeout);
    }

    [Fact]
    public async Task DroppedWatches_Gone_AndConflicts_AreRecoveredFromWithoutLosingEvents()
    {
        await using ServeHarness harness = await ServeHarness.StartAsync();
        harness.StartOperator();
        harness.Server.FailNext("PUT", "/status", 409, times: 2);
        await harness.CreateAsync(ServeHarness.Manifest("sturdy"));
        await Eventually.TrueAsync(() => harness.Pods("sturdy").Count == 3 && harness.Phase("sturdy") == "Pending", "pods and status despite two 409s", Timeout);

        harness.Server.DropWatches();
        harness.SetAllPods("sturdy", "Running");
        await Eventually.TrueAsync(() => harness.Phase("sturdy") == "Running", "a change made while the watches were down is seen", Timeout);

        harness.Server.DropWatches();
        harness.Server.SetPodPhase("ml", "sturdy-2", "Failed", exitCode: 137);
        harness.Server.CompactHistory(); // the re-watch gets 410 Gone: only a new list finds the failure
        await Eventually.TrueAsync(() => harness.Job("sturdy")?["status"]?["restarts"]?.GetValue<int>() == 1, "the failure is counted after 410", Timeout);
        Assert.True(harness.Server.CountRequests("PUT", "/status") >= 3);
    }

    [Fact]
    public async Task AServiceOrSecretDeletedByHand_IsCreatedAgain_TheSecretWithTheTokenTheReplicasHold()
    {
        await using ServeHarness harness = await ServeHarness.StartAsync();
        harness.StartOperator();
        await harness.CreateAsync(ServeHarness.Manifest("mended"));
        await Eventually.TrueAsync(
            () => harness.Server.Get("v1", "services", "ml", "mended") is not null && harness.Server.Get("v1", "secrets", "ml", "mended-desloc") is not null,
            "the Service and the Secret exist", Timeout);
        string serviceUid = harness.Server.Get("v1", "services", "ml", "mended")!["metadata"]!["uid"]!.GetValue<string>();
        JsonNode secret = harness.Server.Get("v1", "secrets", "ml", "mended-desloc")!;
        string secretUid = secret["metadata"]!["uid"]!.GetValue<string>();
        string token = secret["data"]!["token"]!.GetValue<string>();

        await harness.Client.CoreV1.DeleteNamespacedServiceAsync("mended", "ml");
        await Eventually.TrueAsync(
            () => harness.Server.Get("v1", "services", "ml", "mended")?["metadata"]?["uid"]?.GetValue<string>() is { } uid && uid != serviceUid,
            "the Service is created again", Timeout);

        await harness.Client.CoreV1.DeleteNamespacedSecretAsync("mended-desloc", "ml");
        await Eventually.TrueAsync(
            () => harness.Server.Get("v1", "secrets", "ml", "mended-desloc")?["metadata"]?["uid"]?.GetValue<string>() is { } uid && uid != secretUid,
            "the Secret is created again", Timeout);
        JsonNode recreated = harness.Server.Get("v1", "secrets", "ml", "mended-desloc")!;
        Assert.Equal(token, recreated["data"]!["token"]!.GetValue<string>());   // running replicas keep talking to new ones
        Assert.Equal(harness.Job("mended")!["metadata"]!["uid"]!.GetValue<string>(), recreated["metadata"]!["ownerReferences"]![0]!["uid"]!.GetValue<string>());
        Assert.Equal(3, harness.Pods("mended").Count);
    }

    [Fact]
    public async Task AConflictOnTheStatusWrite_IsRedone_AndLoggedAtDebugWithoutAStackTrace()
    {
        await using ServeHarness harness = await ServeHarness.StartAsync();
        var log = new Kubernetes.CapturingLogger();
        var metrics = new OperatorMetrics();
        harness.StartOperator(metrics: metrics, logger: log);
        harness.Server.FailNext("PUT", "/status", 409, times: 1);
        await harness.CreateAsync(ServeHarness.Manifest("contested"));

        await Eventually.TrueAsync(() => harness.Phase("contested") == "Pending", "the status is written after the 409", Timeout);
        Assert.True(harness.Server.CountRequests("PUT", "/status") >= 2);
        var conflict = Assert.Single(log.Entries, e => e.Message.Contains("conflict", StringComparison.Ordinal));
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Debug, conflict.Level);
        Assert.Contains("ml/contested", conflict.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(log.Entries, e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning);
        Assert.All(log.Entries, e => Assert.Null(e.Exception));
        // Counted as what it is, not as a failed reconcile.
        using var scrape = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(scrape);
        string exposition = Encoding.UTF8.GetString(scrape.ToArray());
        Assert.Matches("desloc_operator_reconcile_total\\{result=\"conflict\"\\} 1", exposition);
        Assert.DoesNotMatch("desloc_operator_reconcile_total\\{result=\"error\"\\} [1-9]", exposition);
    }

    [Theory]
    [InlineData("  algorithm:\n    desloc:\n      kx: -4", "spec.algorithm.desloc.kx")]
    [InlineData("  algorithm:\n    type: DCTMomentum\n    dct:\n      blocks: flat\n      chunk: 32\n      topK: 64", "spec.algorithm.dct.topK")]
    [InlineData("  algorithm:\n    type: Gossip", "spec.algorithm.type")]
    public async Task InvalidManifests_AreRefusedByKubectlApply_WithTheFieldNamed(string spec, string field)
    {
        await using ServeHarness harness = await ServeHarness.StartAsync();
        (int code, _, string err) = await harness.KubectlApplyAsync(ServeHarness.Manifest("bad", spec));
        Assert.NotEqual(0, code);
        Assert.Contains(field, err);
        Assert.Null(harness.Job("bad"));
    }

    [Fact]
    public async Task ManifestWithoutATrainerContainer_IsRefusedByCel()
    {
        await using ServeHarness harness = await ServeHarness.StartAsync();
        string manifest = ServeHarness.Manifest("nameless").Replace("- name: trainer", "- name: worker", StringComparison.Ordinal);
        (int code, _, string err) = await harness.KubectlApplyAsync(manifest);
        Assert.NotEqual(0, code);
        Assert.Contains("spec.template.spec.containers", err);
        Assert.Contains("container named 'trainer'", err);
    }

    private static Task<object> Patch(ServeHarness harness, string name, string json) =>
        harness.Client.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch(json, V1Patch.PatchType.MergePatch), LowCommJob.Group, LowCommJob.Version, "ml", LowCommJob.Plural, name);
}
