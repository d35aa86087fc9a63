using DesLoc.Operator.Kubernetes;

namespace DesLoc.Operator.Tests.Serve;

/// <summary>Where `serve` looks for its cluster: --server, $KUBECONFIG, in-cluster, ~/.kube/config, in that order.</summary>
public sealed class ClusterAccessTests
{
    private static readonly string s_home = Path.Combine(Path.GetTempPath(), "home");
    private static readonly string s_default = Path.Combine(s_home, ".kube", "config");

    [Fact]
    public void Each_source_is_used_only_when_every_one_before_it_is_absent()
    {
        Func<string, bool> all = _ => true;
        Assert.Equal(new ClusterAccess.Server("http://api"), ClusterAccess.Resolve("http://api", "/k/a", true, s_home, all));
        Assert.Equal(["/k/a"], Assert.IsType<ClusterAccess.KubeconfigFiles>(ClusterAccess.Resolve(null, "/k/a", true, s_home, all)).Paths);
        Assert.IsType<ClusterAccess.InCluster>(ClusterAccess.Resolve(null, null, true, s_home, all));
        Assert.Equal(new ClusterAccess.DefaultFile(s_default), ClusterAccess.Resolve(null, null, false, s_home, all));
        Assert.IsType<ClusterAccess.Missing>(ClusterAccess.Resolve(null, null, false, s_home, _ => false));
        Assert.IsType<ClusterAccess.Missing>(ClusterAccess.Resolve(null, null, false, null, all));
    }

    [Fact]
    public void KUBECONFIG_keeps_the_files_that_exist_and_stops_when_none_does()
    {
        string list = string.Join(Path.PathSeparator, "/k/a", "/k/gone", "/k/b");
        var files = Assert.IsType<ClusterAccess.KubeconfigFiles>(ClusterAccess.Resolve(null, list, false, s_home, p => p != "/k/gone"));
        Assert.Equal(["/k/a", "/k/b"], files.Paths);

        var missing = Assert.IsType<ClusterAccess.Missing>(ClusterAccess.Resolve(null, "/k/gone", true, s_home, p => p == s_default));
        Assert.Contains("no such file", missing.Message, StringComparison.Ordinal);
    }
}
