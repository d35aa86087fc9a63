using DesLoc.Bench.Claims;

namespace DesLoc.Trainer.Tests.Claims;

/// <summary>The manifests bench/slow-links runs: an overlapped row carries sync.overlapSteps, a blocking one does not.</summary>
public sealed class SlowLinksManifestTests
{
    [Fact]
    public void Job_OverlappedMethod_SetsOverlapSteps_BlockingLeavesItOut()
    {
        Workload workload = SlowLinksBenchmark.LinkWorkload(100);

        var overlapped = workload.Job(Method.DiLoCo(16).Overlapped(4), "sl-diloco-overlap");
        var blocking = workload.Job(Method.DiLoCo(16), "sl-diloco");

        Assert.Equal(4, overlapped.Spec.Sync.OverlapSteps);
        Assert.Equal(16, overlapped.Spec.Algorithm.Diloco.Period);
        Assert.False(overlapped.Spec.Sync.Adaptive.Enabled);
        Assert.Null(blocking.Spec.Sync.OverlapSteps);
        Assert.Equal("DiLoCo H=16 overlap 4", Method.DiLoCo(16).Overlapped(4).Name);
    }
}
