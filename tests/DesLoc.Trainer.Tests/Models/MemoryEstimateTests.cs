using DesLoc.Contract.Validation;
using DesLoc.Trainer.Configuration;
using DesLoc.Trainer.Models;

namespace DesLoc.Trainer.Tests.Models;

/// <summary>The memory check before training: its parameter count is the models' own, and a job too large is refused with the numbers.</summary>
[Collection("TorchSharp")]
public sealed class MemoryEstimateTests
{
    public static TheoryData<string, int, int, int, int?, bool, int, int> Models => new()
    {
        { ModelSpec.Gpt, 2, 64, 4, null, false, 64, 16 },
        { ModelSpec.Gpt, 3, 48, 4, null, false, 32, 256 },
        { ModelSpec.Llama, 2, 32, 4, null, false, 16, 32 },
        { ModelSpec.Llama, 2, 64, 8, 2, true, 16, 50 },
        { ModelSpec.Llama, 1, 96, 4, 1, false, 8, 256 },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void ParameterCount_IsTheBuiltModels(string type, int layers, int dim, int heads, int? kvHeads, bool tied, int context, int vocab)
    {
        var model = new ModelSpec { Type = type, Layers = layers, Dim = dim, Heads = heads, KvHeads = kvHeads, TiedEmbeddings = tied, Context = context };
        using var built = LanguageModels.Create(model, vocab);

        long actual = built.parameters().Sum(p => p.numel());

        Assert.Equal(actual, MemoryEstimate.ParameterCount(model, vocab));
    }

    [Fact]
    public void CheckMemory_AModelTooLarge_IsRefusedNamingTheModelWithTheNumbers_ASmallOneFits()
    {
        JobSpec huge = new() { Model = new ModelSpec { Dim = 4096, Layers = 64, Heads = 32 } };
        SpecError? refused = Preflight.CheckMemory(huge, workers: 1, availableBytes: 24L << 30);

        Assert.NotNull(refused);
        Assert.Equal("spec.model", refused.Field);
        // By hand: a block is 12d² + 13d = 201,379,840 weights at d = 4096; 64 of them, plus token and position
        // embeddings, the final norm and the head over vocabulary 16: 12,888,711,184 parameters.
        Assert.Contains("12,888,711,184 parameters", refused.Message);
        Assert.Contains("24.00 GiB is available", refused.Message);

        Assert.Null(Preflight.CheckMemory(new JobSpec(), workers: 4, availableBytes: 24L << 30));
    }
}
