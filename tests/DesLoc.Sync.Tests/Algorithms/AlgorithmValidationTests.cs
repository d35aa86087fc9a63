using DesLoc.Sync.Algorithms;

namespace DesLoc.Sync.Tests.Algorithms;

public sealed class AlgorithmValidationTests
{
    public static TheoryData<string, AlgorithmSpec, string> BadSpecs => new()
    {
        { "zero Kx", new() { Type = AlgorithmType.DESLOC, Desloc = new() { Kx = 0 } }, "algorithm.desloc.kx must be at least 1 (got 0)" },
        { "negative Kv", new() { Type = AlgorithmType.DESLOC, Desloc = new() { Kx = 4, Kv = -2 } }, "algorithm.desloc.kv must be at least 1 (got -2)" },
        { "zero Local Adam period", new() { Type = AlgorithmType.LocalAdam, LocalAdam = new() { Period = 0 } }, "algorithm.localAdam.period must be at least 1" },
        { "negative DiLoCo period", new() { Type = AlgorithmType.DiLoCo, Diloco = new() { Period = -1 } }, "algorithm.diloco.period must be at least 1" },
        { "outer momentum 1", new() { Type = AlgorithmType.DiLoCo, Diloco = new() { OuterMomentum = 1 } }, "algorithm.diloco.outerMomentum must be in [0, 1)" },
        { "p = 1", new() { Type = AlgorithmType.PALSGD, Palsgd = new() { Probability = 1 } }, "algorithm.palsgd.probability must be in [0, 1) (got 1)" },
        { "p < 0", new() { Type = AlgorithmType.PALSGD, Palsgd = new() { Probability = -0.1 } }, "algorithm.palsgd.probability must be in [0, 1)" },
        { "overshooting pull", new() { Type = AlgorithmType.PALSGD, Palsgd = new() { Probability = 0.001, Eta = 1 } }, "must be below 1" },
        { "topK above chunk", new() { Type = AlgorithmType.DCTMomentum, Dct = new() { Chunk = 64, TopK = 65 } }, "algorithm.dct.topK must be between 1 and algorithm.dct.chunk (64) (got 65)" },
        { "zero DCT period", new() { Type = AlgorithmType.DCTMomentum, Dct = new() { Period = 0 } }, "algorithm.dct.period must be at least 1" },
        { "decay 1", new() { Type = AlgorithmType.DCTMomentum, Dct = new() { Decay = 1 } }, "algorithm.dct.decay must be in [0, 1)" },
    };

    [Theory]
    [MemberData(nameof(BadSpecs))]
    public void Validate_BadSpec_NamesTheField(string name, AlgorithmSpec spec, string expected)
    {
        IReadOnlyList<string> errors = AlgorithmValidation.Validate(spec, peakLearningRate: 0.01);

        Assert.True(errors.Any(e => e.Contains(expected, StringComparison.Ordinal)), $"{name}: got [{string.Join("; ", errors)}]");
    }

    [Theory]
    [InlineData(AlgorithmType.DDP)]
    [InlineData(AlgorithmType.LocalAdam)]
    [InlineData(AlgorithmType.DESLOC)]
    [InlineData(AlgorithmType.DiLoCo)]
    [InlineData(AlgorithmType.PALSGD)]
    [InlineData(AlgorithmType.DCTMomentum)]
    public void Validate_Defaults_AreValid(AlgorithmType type) =>
        Assert.Empty(AlgorithmValidation.Validate(new AlgorithmSpec { Type = type }, peakLearningRate: 3e-3));

    [Fact]
    public void Validate_PalsgdWithPZero_IsAllowed() =>
        Assert.Empty(AlgorithmValidation.Validate(new AlgorithmSpec { Type = AlgorithmType.PALSGD, Palsgd = new() { Probability = 0 } }, 0.01));

    [Fact]
    public void DesLocSettings_WithoutKuKv_UseThreeAndSixTimesKx()
    {
        var settings = new DesLocSettings { Kx = 16 };

        Assert.Equal(48, settings.EffectiveKu);
        Assert.Equal(96, settings.EffectiveKv);
    }
}
