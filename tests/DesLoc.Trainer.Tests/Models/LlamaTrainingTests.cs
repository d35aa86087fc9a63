using DesLoc.Trainer.Models;
using DesLoc.Trainer.Tests.Training;

namespace DesLoc.Trainer.Tests.Models;

/// <summary>A llama job trains in process, and its options change the model as they say.</summary>
[Collection("TorchSharp")]
public sealed class LlamaTrainingTests
{
    [Fact]
    public async Task LlamaJob_WithGroupedQueryAttentionAndTiedEmbeddings_LearnsIn30Steps()
    {
        var (untrained, _) = await TinyJobs.RunAsync(Job(steps: 1));
        var (trained, parameters) = await TinyJobs.RunAsync(Job(steps: 30));

        // After one warm-up step the N(0, 0.02) model still predicts about uniformly (ln 16 = 2.77 nats).
        Assert.InRange(untrained.MeanEvalLoss, Math.Log(16) - 0.05, Math.Log(16) + 0.05);
        Assert.InRange(trained.MeanEvalLoss, trained.EntropyFloor!.Value, untrained.MeanEvalLoss - 0.1);
        Assert.All(parameters, p => Assert.All(p, v => Assert.True(float.IsFinite(v))));
    }

    private static JobSpec Job(int steps)
    {
        JobSpec tiny = TinyJobs.Spec(new AlgorithmSpec { Type = AlgorithmType.DESLOC, Desloc = new() { Kx = 10 } }, steps, replicas: 2);
        return tiny with { Model = tiny.Model with { Type = ModelSpec.Llama, KvHeads = 1, TiedEmbeddings = true } };
    }

    [Fact]
    public void TiedEmbeddings_SaveVocabTimesDimParameters_AndGroupedQueryAttentionItsKeyValueWeights()
    {
        var spec = new ModelSpec { Type = ModelSpec.Llama, Layers = 2, Dim = 32, Heads = 4, Context = 16 };

        long untied = Count(spec);
        long tied = Count(spec with { TiedEmbeddings = true });
        long grouped = Count(spec with { KvHeads = 1 });

        Assert.Equal(50L * 32, untied - tied);
        // Keys and values shrink from 4 heads of 8 to 1: 2 matrices of 32 x 24 fewer per layer.
        Assert.Equal(2L * 2 * 32 * 24, untied - grouped);
    }

    [Fact]
    public void Llama_HasNoBiases_AndItsNormsStartAtOne()
    {
        using var model = LanguageModels.Create(new ModelSpec { Type = ModelSpec.Llama, Layers = 1, Dim = 32, Heads = 4 }, 50);

        Assert.IsType<Llama>(model);
        Assert.DoesNotContain(model.named_parameters(), p => p.name.Contains("bias", StringComparison.Ordinal));
        Assert.All(model.named_parameters().Where(p => p.parameter.dim() == 1), p => Assert.True(p.parameter.eq(1).all().item<bool>(), p.name));
        Assert.IsType<Gpt>(LanguageModels.Create(new ModelSpec(), 50));
    }

    private static long Count(ModelSpec spec)
    {
        using var model = LanguageModels.Create(spec, 50);
        return model.parameters().Sum(p => p.numel());
    }
}
