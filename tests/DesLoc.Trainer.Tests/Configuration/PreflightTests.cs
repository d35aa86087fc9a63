using DesLoc.Trainer.Configuration;
using DesLoc.Trainer.Training;

namespace DesLoc.Trainer.Tests.Configuration;

public sealed class PreflightTests
{
    public static TheoryData<string, JobSpec, string> BadSpecs => new()
    {
        { "no replicas", new JobSpec { Replicas = 0 }, "spec.replicas: must be in [1, 1024] (got 0)" },
        { "missing file", new JobSpec { Data = new DataSpec { Path = "/nonexistent/book.txt" } }, "spec.data.path: no file at '/nonexistent/book.txt'" },
        { "both sources", new JobSpec { Data = new DataSpec { Path = "x", Synthetic = new SyntheticSpec() } }, "spec.data.path: set one of path, shards and synthetic" },
        { "shards and synthetic", new JobSpec { Data = new DataSpec { Shards = "/data/book", Synthetic = new SyntheticSpec() } }, "spec.data.shards: set one of shards and synthetic" },
        { "shards without a manifest", new JobSpec { Data = new DataSpec { Shards = "/nonexistent/book" } }, "spec.data.shards: no manifest.json in '/nonexistent/book'" },
        { "unknown tokenizer", new JobSpec { Data = new DataSpec { Shards = "/data/book", Tokenizer = "llama3" } }, "spec.data.tokenizer: must be one of" },
        { "vocab below gpt2's", new JobSpec { Model = new ModelSpec { Vocab = 50000 }, Data = new DataSpec { Shards = "/data/book" } }, "spec.model.vocab: model.vocab must be at least the data's vocabulary" },
        { "heads do not divide dim", new JobSpec { Model = new ModelSpec { Dim = 30, Heads = 4 } }, "spec.model.dim: dim must be a multiple of heads" },
        { "kvHeads do not divide heads", new JobSpec { Model = new ModelSpec { Type = ModelSpec.Llama, Heads = 4, KvHeads = 3 } }, "spec.model.kvHeads: kvHeads must divide heads" },
        { "zero steps", new JobSpec { Training = new TrainingSpec { Steps = 0 } }, "spec.training.steps: must be in [1," },
        { "negative lr", new JobSpec { Training = new TrainingSpec { LearningRate = -1 } }, "spec.training.learningRate: must be in (0, 10]" },
        { "beta2 = 1", new JobSpec { Training = new TrainingSpec { Beta2 = 1 } }, "spec.training.beta2: must be in [0, 1)" },
        { "vocab too small", new JobSpec { Model = new ModelSpec { Vocab = 8 } }, "spec.model.vocab: model.vocab must be at least the data's vocabulary" },
        { "zero period", new JobSpec { Algorithm = new AlgorithmSpec { Type = AlgorithmType.DESLOC, Desloc = new() { Kx = 0 } } }, "spec.algorithm.desloc.kx: must be in [1, 1000000]" },
        { "topK > block", new JobSpec { Algorithm = new AlgorithmSpec { Type = AlgorithmType.DCTMomentum, Dct = new() { Chunk = 8, TopK = 100 } } }, "spec.algorithm.dct.topK: topK must not exceed a block" },
        { "p outside", new JobSpec { Algorithm = new AlgorithmSpec { Type = AlgorithmType.PALSGD, Palsgd = new() { Probability = 1.5 } } }, "spec.algorithm.palsgd.probability: must be in [0, 1)" },
    };

    [Theory]
    [MemberData(nameof(BadSpecs))]
    public void Check_BadSpec_NamesTheField(string name, JobSpec spec, string expected)
    {
        IReadOnlyList<string> errors = [.. Preflight.Check(spec).Select(e => e.ToString())];

        Assert.True(errors.Any(e => e.Contains(expected, StringComparison.Ordinal)), $"{name}: got [{string.Join("; ", errors)}]");
    }

    [Fact]
    public void Check_Defaults_AreValid() => Assert.Empty(Preflight.Check(new JobSpec()));

    [Fact]
    public void InProcessJob_BadSpec_StopsBeforeBuildingAnyReplica()
    {
        var spec = new JobSpec { Algorithm = new AlgorithmSpec { Type = AlgorithmType.DESLOC, Desloc = new() { Kx = -3 } } };

        var error = Assert.Throws<ConfigurationException>(() => new InProcessJob(spec));

        Assert.Contains("spec.algorithm.desloc.kx: must be in [1, 1000000] (got -3)", error.Message);
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

            Assert.StartsWith("spec.data.path:", error.Message, StringComparison.Ordinal);
            Assert.Contains("has 4 bytes", error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
