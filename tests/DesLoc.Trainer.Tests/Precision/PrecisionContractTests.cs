namespace DesLoc.Trainer.Tests.Precision;

/// <summary>What sync.compression means when unset, and what bf16 training costs in memory.</summary>
public sealed class PrecisionContractTests
{
    [Theory]
    [InlineData(TrainingSpec.Fp32, null, SyncSpec.NoCompression)]
    [InlineData(TrainingSpec.Bf16, null, SyncSpec.Bf16Compression)]
    [InlineData(TrainingSpec.Bf16, SyncSpec.NoCompression, SyncSpec.NoCompression)]
    [InlineData(TrainingSpec.Fp32, SyncSpec.Bf16Compression, SyncSpec.Bf16Compression)]
    public void UnsetCompression_FollowsThePrecision_ASetOneWins(string precision, string? compression, string effective)
    {
        var spec = new JobSpec { Training = new TrainingSpec { Precision = precision }, Sync = new SyncSpec { Compression = compression } };

        Assert.Equal(effective, spec.EffectiveSyncCompression);
    }

    [Fact]
    public void Defaults_AreFloat32Training_AndCompressionUnset() =>
        Assert.Equal((TrainingSpec.Fp32, (string?)null), (new JobSpec().Training.Precision, new JobSpec().Sync.Compression));

    [Fact]
    public void MemoryEstimate_Bf16_AddsTheBf16WeightsAndGradients_AndHalvesTheLayerActivations()
    {
        var fp32 = new JobSpec { Model = new ModelSpec { Dim = 256, Layers = 4, Heads = 4, Context = 256 }, Training = new TrainingSpec { BatchSize = 8 } };
        JobSpec bf16 = fp32 with { Training = fp32.Training with { Precision = TrainingSpec.Bf16 } };
        const int vocab = 256;

        MemoryEstimate full = MemoryEstimate.For(fp32, vocab);
        MemoryEstimate mixed = MemoryEstimate.For(bf16, vocab);

        Assert.Equal(full.Parameters, mixed.Parameters);
        Assert.Equal(full.Weights + (2 * full.Parameters), mixed.Weights);        // float32 master + bfloat16 copy
        Assert.Equal(full.Gradients + (2 * full.Parameters), mixed.Gradients);
        Assert.Equal(full.OptimizerState, mixed.OptimizerState);
        Assert.Equal(full.SyncState, mixed.SyncState);
        // Logits and their gradient stay float32 (4 floats of 4 bytes per logit); the layers' activations halve.
        long logits = 4L * 256 * 8 * vocab * sizeof(float);
        Assert.InRange(full.Activations - logits - (2 * (mixed.Activations - logits)), -2, 2);   // the estimate truncates to whole bytes
        Assert.True(mixed.Activations < full.Activations * 0.6);
    }
}
