using System.Text;
using System.Text.Json;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Reconciliation;
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
    public void ServiceIsHeadless_AndSecretHoldsTokenAndTheContractsPartOfTheSpec()
    {
        LowCommJob job = Jobs.New(edit: s => s with { Sync = new SyncSpec { Adaptive = new AdaptiveSyncSpec { Enabled = true } } });
        V1Service service = DesiredObjects.Service(job);
        V1Secret secret = DesiredObjects.Secret(job, "s3cret", Jobs.Layout);

        Assert.Equal("None", service.Spec.ClusterIP);
        Assert.True(service.Spec.PublishNotReadyAddresses);
        Assert.Equal([29500, 29501, 9400], service.Spec.Ports.Select(p => p.Port));
        Assert.Equal("s3cret", Encoding.UTF8.GetString(secret.Data["token"]));
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
