namespace DesLoc.Operator.Tests.Chart;

public sealed class ChartCrdTests
{
    [Fact]
    public void ChartCrd_IsByteIdenticalToTheGeneratedOne()
    {
        byte[] generated = File.ReadAllBytes(RepoFiles.Path("crds", "desloc.dev_lowcommjobs.yaml"));
        byte[] shipped = File.ReadAllBytes(RepoFiles.Chart("crds", "desloc.dev_lowcommjobs.yaml"));
        Assert.True(generated.AsSpan().SequenceEqual(shipped),
            "charts/desloc-operator/crds/ differs from crds/: cp crds/desloc.dev_lowcommjobs.yaml charts/desloc-operator/crds/");
    }

    [Fact]
    public void ChartCrdsDirectory_HoldsOnlyTheLowCommJobCrd()
    {
        // Helm installs every file under crds/ verbatim, before the templates.
        Assert.Equal(["desloc.dev_lowcommjobs.yaml"], Directory.GetFiles(RepoFiles.Chart("crds")).Select(Path.GetFileName));
    }
}
