using DesLoc.Trainer.Configuration;

namespace DesLoc.Trainer.Tests.Configuration;

public sealed class JobSpecLoaderTests
{
    [Fact]
    public void Load_DottedOverrides_SetNestedFieldsOverTheJson()
    {
        const string Json = """{ "replicas": 2, "algorithm": { "type": "DiLoCo", "diloco": { "period": 8 } } }""";

        JobSpec spec = JobSpecLoader.Load(Json, [new("training.steps", "50"), new("algorithm.diloco.outerLr", "0.5"), new("replicas", "3")]);

        Assert.Equal(3, spec.Replicas);
        Assert.Equal(50, spec.Training.Steps);
        Assert.Equal(AlgorithmType.DiLoCo, spec.Algorithm.Type);
        Assert.Equal(8, spec.Algorithm.Diloco.Period);
        Assert.Equal(0.5, spec.Algorithm.Diloco.OuterLr);
    }

    [Fact]
    public void Load_UnknownField_IsAnErrorThatNamesIt()
    {
        var error = Assert.Throws<ConfigurationException>(() => JobSpecLoader.Load(null, [new("training.stepz", "5")]));

        Assert.Contains("stepz", error.Message);
    }

    [Fact]
    public void Load_UnknownAlgorithm_IsAnErrorThatNamesTheField()
    {
        var error = Assert.Throws<ConfigurationException>(() => JobSpecLoader.Load(null, [new("algorithm.type", "SGD")]));

        Assert.Contains("algorithm.type", error.Message);
    }

    [Fact]
    public void ToJsonThenLoad_RoundTrips()
    {
        var spec = new JobSpec { Replicas = 7, Algorithm = new AlgorithmSpec { Type = AlgorithmType.PALSGD, Palsgd = new() { Eta = 0.25 } } };

        JobSpec loaded = JobSpecLoader.Load(JobSpecJson.Serialize(spec), []);

        Assert.Equal(7, loaded.Replicas);
        Assert.Equal(AlgorithmType.PALSGD, loaded.Algorithm.Type);
        Assert.Equal(0.25, loaded.Algorithm.Palsgd.Eta);
    }

    [Fact]
    public void ParseArguments_FlagsWithSpacesOrEquals_AreFieldPaths()
    {
        JobSpec spec = Program.ParseArguments(["--replicas", "2", "--algorithm.desloc.kx=8", "--data.synthetic.vocab", "12"]);

        Assert.Equal(2, spec.Replicas);
        Assert.Equal(8, spec.Algorithm.Desloc.Kx);
        Assert.Equal(12, spec.Data.Synthetic!.Vocab);
    }

    [Fact]
    public void ParseArguments_FlagWithoutValue_SaysSo()
    {
        var error = Assert.Throws<ConfigurationException>(() => Program.ParseArguments(["--training.steps"]));

        Assert.Contains("--training.steps needs a value", error.Message);
    }
}
