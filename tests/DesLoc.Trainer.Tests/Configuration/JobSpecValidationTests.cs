using DesLoc.Sync.Algorithms;
using DesLoc.Trainer.Configuration;
using DesLoc.Trainer.Training;

namespace DesLoc.Trainer.Tests.Configuration;

public sealed class JobSpecValidationTests
{
    public static TheoryData<string, JobSpec, string> BadSpecs => new()
    {
        { "no replicas", new JobSpec { Replicas = 0 }, "replicas must be at least 1 (got 0)" },
        { "missing file", new JobSpec { Data = new DataSpec { Path = "/nonexistent/book.txt" } }, "data.path: no file at '/nonexistent/book.txt'" },
        { "both sources", new JobSpec { Data = new DataSpec { Path = "x", Synthetic = new SyntheticSpec() } }, "either data.path or data.synthetic" },
        { "heads do not divide dim", new JobSpec { Model = new ModelSpec { Dim = 30, Heads = 4 } }, "model.dim (30) must be a multiple of model.heads (4)" },
        { "zero steps", new JobSpec { Training = new TrainingSpec { Steps = 0 } }, "training.steps must be at least 1" },
        { "negative lr", new JobSpec { Training = new TrainingSpec { LearningRate = -1 } }, "training.learningRate must be positive" },
        { "beta2 = 1", new JobSpec { Training = new TrainingSpec { Beta2 = 1 } }, "training.beta2 must be in [0, 1)" },
        { "vocab too small", new JobSpec { Model = new ModelSpec { Vocab = 8 } }, "model.vocab (8) must be at least the data's vocabulary (16)" },
        { "zero period", new JobSpec { Algorithm = new AlgorithmSpec { Type = AlgorithmType.DESLOC, Desloc = new() { Kx = 0 } } }, "algorithm.desloc.kx must be at least 1" },
        { "topK > chunk", new JobSpec { Algorithm = new AlgorithmSpec { Type = AlgorithmType.DCTMomentum, Dct = new() { TopK = 100 } } }, "algorithm.dct.topK" },
        { "p outside", new JobSpec { Algorithm = new AlgorithmSpec { Type = AlgorithmType.PALSGD, Palsgd = new() { Probability = 1.5 } } }, "algorithm.palsgd.probability" },
    };

    [Theory]
    [MemberData(nameof(BadSpecs))]
    public void Validate_BadSpec_NamesTheField(string name, JobSpec spec, string expected)
    {
        IReadOnlyList<string> errors = JobSpecValidation.Validate(spec);

        Assert.True(errors.Any(e => e.Contains(expected, StringComparison.Ordinal)), $"{name}: got [{string.Join("; ", errors)}]");
    }

    [Fact]
    public void Validate_Defaults_AreValid() => Assert.Empty(JobSpecValidation.Validate(new JobSpec()));

    [Fact]
    public void InProcessJob_BadSpec_StopsBeforeBuildingAnyReplica()
    {
        var spec = new JobSpec { Algorithm = new AlgorithmSpec { Type = AlgorithmType.DESLOC, Desloc = new() { Kx = -3 } } };

        var error = Assert.Throws<ConfigurationException>(() => new InProcessJob(spec));

        Assert.Contains("algorithm.desloc.kx must be at least 1 (got -3)", error.Message);
    }

    [Fact]
    public void TextFileSource_FileTooSmall_SaysWhichFieldAndHowBig()
    {
        string path = Path.GetTempFileName();
        File.WriteAllText(path, "tiny");
        try
        {
            var spec = new JobSpec { Data = new DataSpec { Path = path } };

            var error = Assert.Throws<ConfigurationException>(() => new InProcessJob(spec));

            Assert.StartsWith("data.path:", error.Message, StringComparison.Ordinal);
            Assert.Contains("has 4 bytes", error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
