using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Local;

namespace DesLoc.Operator.Tests.Local;

/// <summary>Small LowCommJobs for tests that run trainer processes, and a wait on their progress.</summary>
internal static class LocalJobs
{
    /// <summary>A job with one trainer container; <paramref name="spec"/> holds further spec fields, indented two spaces.</summary>
    public static LowCommJob Parse(string name, int replicas, string spec) => ManifestLoader.Parse($"""
        apiVersion: desloc.dev/v1alpha1
        kind: LowCommJob
        metadata:
          name: {name}
        spec:
          replicas: {replicas}
          template:
            spec:
              containers:
                - name: trainer
                  image: trainer
        {spec}
        """, name);

    /// <summary>Returns once rank 0 has reported <paramref name="step"/> or later.</summary>
    public static async Task StepReachedAsync(LocalCluster cluster, long step)
    {
        while ((cluster.Job.Status?.Step ?? 0) < step)
        {
            await Task.Delay(100);
        }
    }
}
