using DesLoc.Contract.Wire;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Local;
using DesLoc.Operator.Reconciliation;
using DesLoc.Testing;
using DesLoc.Trainer.Configuration;
using DesLoc.Trainer.Distributed;
using k8s.Models;

namespace DesLoc.Trainer.Tests.Distributed;

/// <summary>
/// The contract between the operator and the trainer (DESIGN.md §5), pinned from both sides: the environment the
/// operator puts in a pod is what the trainer reads, and the config it writes for every sample is one the trainer
/// loads and accepts, with the same values.
/// </summary>
public sealed class OperatorContractTests
{
    private static string Samples() => RepositoryFiles.Path("samples");

    public static TheoryData<string> SampleFiles() => [.. Directory.GetFiles(Samples(), "*.yaml").Select(f => Path.GetFileName(f)).Order()];

    [Theory]
    [MemberData(nameof(SampleFiles))]
    public void OperatorConfig_ForEverySample_IsLoadedAndAcceptedByTheTrainer(string sample)
    {
        LowCommJob job = ManifestLoader.Load(Path.Combine(Samples(), sample));
        string json = DesiredObjects.TrainerConfig(job.Spec, ReplicaLayout.Cluster(job.Metadata.Name, "ml", job.Spec.Checkpoint));

        JobSpec spec = JobSpecLoader.Load(json, []);

        Assert.Empty(Preflight.Check(spec, fileExists: _ => true));
        Assert.Equal(job.Spec.Replicas, spec.Replicas);
        Assert.Equal(job.Spec.Algorithm.Type.ToString(), spec.Algorithm.Type.ToString());
        Assert.Equal(job.Spec.Algorithm.Desloc.Kx, spec.Algorithm.Desloc.Kx);
        Assert.Equal(job.Spec.Algorithm.Dct.TopK, spec.Algorithm.Dct.TopK);
        Assert.Equal(job.Spec.Training.Steps, spec.Training.Steps);
        Assert.Equal("/checkpoints", spec.Checkpoint.Path);
        Assert.Equal(job.Spec.FaultTolerance.JoinTimeoutSeconds, spec.FaultTolerance.JoinTimeoutSeconds);
    }

    [Fact]
    public void PodEnvironment_IsWhatTheTrainerReads()
    {
        LowCommJob job = ManifestLoader.Load(Path.Combine(Samples(), "quickstart.yaml"));
        job.Metadata.NamespaceProperty = "ml";
        IReadOnlyList<V1EnvVar> env = DesiredObjects.Environment(job, 3, ReplicaLayout.Cluster(job.Metadata.Name, "ml", job.Spec.Checkpoint));
        Dictionary<string, string?> values = env.ToDictionary(e => e.Name, string? (e) => e.ValueFrom?.SecretKeyRef is null ? e.Value : "the-token");

        Assert.Equal(
            new[] { TrainerEnvironment.Job, TrainerEnvironment.Rank, TrainerEnvironment.WorldSize, TrainerEnvironment.Peers,
                TrainerEnvironment.Config, TrainerEnvironment.Token, TrainerEnvironment.GrpcPort, TrainerEnvironment.MetricsPort,
                TrainerEnvironment.BindAddress, TrainerEnvironment.TlsDirectory }.Order(),
            values.Keys.Order());
        ReplicaEnvironment read = ReplicaEnvironment.Read(name => values.GetValueOrDefault(name));
        Assert.Equal((3, 4, "the-token", "/etc/desloc/tls"), (read.Rank, read.WorldSize, read.Token, read.TlsDirectory));
        Assert.Equal("quickstart-0.quickstart.ml.svc:29500", read.Peers[0]);
        Assert.Equal((TrainerEnvironment.DefaultGrpcPort, TrainerEnvironment.DefaultMetricsPort), (read.GrpcPort, read.MetricsPort));
    }
}
