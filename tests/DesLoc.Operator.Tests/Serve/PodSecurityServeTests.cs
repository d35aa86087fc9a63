using System.Text;
using DesLoc.Operator.Metrics;
using DesLoc.Testing;
using k8s;
using k8s.Models;

namespace DesLoc.Operator.Tests.Serve;

/// <summary>
/// The real operator in a namespace that enforces Pod Security <c>restricted</c> (the test API server imitates the
/// admission plugin): trainer pods pass by default; a template that breaks the level is refused, and the job's status
/// and Events carry the API server's words, retried with backoff rather than in a loop.
/// </summary>
public sealed class PodSecurityServeTests
{
    private const double Timeout = 30;

    [Fact]
    public async Task TrainerPods_PassRestricted_AndARefusedPod_IsReportedInStatusAndEvents_WithBackoff()
    {
        await using ServeHarness harness = await ServeHarness.StartAsync();
        await harness.Client.CoreV1.CreateNamespaceAsync(new V1Namespace
        {
            Metadata = new V1ObjectMeta { Name = "ml", Labels = new Dictionary<string, string> { ["pod-security.kubernetes.io/enforce"] = "restricted" } },
        });
        var metrics = new OperatorMetrics();
        harness.StartOperator(metrics: metrics);

        await harness.CreateAsync(ServeHarness.Manifest("compliant"));
        await Eventually.TrueAsync(() => harness.Pods("compliant").Count == 3, "the default pods are admitted under restricted", Timeout);
        V1Pod pod = KubernetesJson.Deserialize<V1Pod>(harness.Pods("compliant")[0].ToJsonString());
        Assert.False(pod.Spec.AutomountServiceAccountToken);
        Assert.Equal("FallbackToLogsOnError", pod.Spec.Containers[0].TerminationMessagePolicy);

        string escalating = ServeHarness.Manifest("escalating").Replace(
            "\n          image: ghcr.io/desloc/trainer:0.1.0",
            "\n          image: ghcr.io/desloc/trainer:0.1.0\n          securityContext: {allowPrivilegeEscalation: true}",
            StringComparison.Ordinal);
        Assert.Contains("allowPrivilegeEscalation: true", escalating);
        await harness.CreateAsync(escalating);
        const string Words = "violates PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false (container \"trainer\" must set securityContext.allowPrivilegeEscalation=false)";
        await Eventually.TrueAsync(
            () => harness.Job("escalating")?["status"]?["conditions"]?.AsArray().Any(c => (string?)c!["type"] == "ReplicaFailure" && (string?)c["status"] == "True"
                && ((string?)c["message"])?.Contains(Words, StringComparison.Ordinal) == true) == true,
            "the ReplicaFailure condition carries the API server's message", Timeout);
        await Eventually.TrueAsync(
            () => harness.Events("escalating").Any(e => e.Reason == "FailedCreate" && e.Type == "Warning" && e.Message.Contains(Words, StringComparison.Ordinal)),
            "a FailedCreate Event carries it too", Timeout);
        Assert.Empty(harness.Pods("escalating"));

        // Backoff: the work queue waits 1 s, 2 s, 4 s... between refused attempts (3 pods each), not a tight loop.
        int before = harness.Server.CountRequests("POST", "/namespaces/ml/pods");
        await Task.Delay(TimeSpan.FromSeconds(3));
        int during = harness.Server.CountRequests("POST", "/namespaces/ml/pods") - before;
        Assert.InRange(during, 0, 9);
        using var scrape = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(scrape);
        Assert.Matches("desloc_operator_reconcile_total\\{result=\"refused\"\\} [1-9]", Encoding.UTF8.GetString(scrape.ToArray()));
    }
}
