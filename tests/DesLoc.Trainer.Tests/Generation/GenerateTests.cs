using DesLoc.Contract.Wire;
using DesLoc.Trainer.Export;
using DesLoc.Trainer.Generation;
using DesLoc.Trainer.Models;
using static TorchSharp.torch;

namespace DesLoc.Trainer.Tests.Generation;

/// <summary><c>generate</c> on a small exported byte-level model: how many tokens, the context window, the seed.</summary>
[Collection("TorchSharp")]
public sealed class GenerateTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("desloc-generate-").FullName;

    public GenerateTests()
    {
        var spec = new JobSpec { Model = new ModelSpec { Type = ModelSpec.Llama, Layers = 1, Dim = 16, Heads = 2, Context = 8 }, Data = new DataSpec { Path = "corpus.txt" } };
        random.manual_seed(9);
        using nn.Module<Tensor, Tensor> model = LanguageModels.Create(spec.Model, DataSpec.ByteVocab);
        using (no_grad())
        {
            // Spread-out weights, so sampling has a peaked distribution to follow rather than a near-uniform one.
            foreach (TorchSharp.Modules.Parameter parameter in model.parameters())
            {
                parameter.mul_(10);
            }
        }

        ModelExport.Write(model, spec, _directory);
    }

    [Fact]
    public void Continue_GivesTheTokensAskedFor_PastTheContext_FromAPromptLongerThanIt()
    {
        using ExportedModel exported = ModelExport.Read(_directory);
        int[] prompt = [.. "To be, or not to be"u8.ToArray().Select(b => (int)b)];

        IReadOnlyList<int> tokens = TextGeneration.Continue(exported.Model, exported.Spec.Context, prompt, 30, new SamplingSettings(1.0, 50), new Random(1));

        Assert.Equal(30, tokens.Count);
        Assert.All(tokens, t => Assert.InRange(t, 0, DataSpec.ByteVocab - 1));
    }

    [Fact]
    public void Continue_SameSeedRepeats_AnotherSeedDiffers_GreedyIsTopKOne()
    {
        using ExportedModel exported = ModelExport.Read(_directory);
        int[] prompt = [84, 111];
        IReadOnlyList<int> Run(SamplingSettings settings, int seed) =>
            TextGeneration.Continue(exported.Model, exported.Spec.Context, prompt, 20, settings, new Random(seed));

        Assert.Equal(Run(new SamplingSettings(1.0, 0), 4), Run(new SamplingSettings(1.0, 0), 4));
        Assert.NotEqual(Run(new SamplingSettings(1.0, 0), 4), Run(new SamplingSettings(1.0, 0), 5));
        Assert.Equal(Run(SamplingSettings.Greedy, 1), Run(new SamplingSettings(1.0, 1), 2));
    }

    [Fact]
    public void Generate_PrintsThePromptAndItsContinuation_TheSameForTheSameSeed()
    {
        var request = new Verbs.GenerateRequest(_directory, "ROMEO:", 25, new SamplingSettings(0.8, 50), 3);
        string Run()
        {
            using var stdout = new StringWriter();
            using var stderr = new StringWriter();
            Assert.Equal(0, Verbs.Generate(request, stdout, stderr));
            Assert.Empty(stderr.ToString());
            return stdout.ToString();
        }

        string first = Run();

        Assert.StartsWith("ROMEO:", first);
        Assert.True(first.Length > "ROMEO:".Length + 1);
        Assert.Equal(first, Run());
    }

    [Fact]
    public void Generate_FromAMissingDirectory_Exits2NamingTheFile()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        string missing = Path.Combine(_directory, "nowhere");

        int code = Verbs.Generate(new Verbs.GenerateRequest(missing, "x", 5, SamplingSettings.Greedy, 1), stdout, stderr);

        Assert.Equal(TrainerExitCodes.ConfigurationError, code);
        Assert.Contains(Path.Combine(missing, ModelExport.ConfigFile), stderr.ToString());
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
