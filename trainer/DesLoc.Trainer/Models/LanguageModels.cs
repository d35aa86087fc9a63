using static TorchSharp.torch;

namespace DesLoc.Trainer.Models;

/// <summary>Builds the model a spec names: logits [batch, time, vocab] from tokens [batch, time].</summary>
internal static class LanguageModels
{
    public static nn.Module<Tensor, Tensor> Create(ModelSpec spec, int vocab) => spec.Type switch
    {
        ModelSpec.Gpt => new Gpt(spec, vocab),
        ModelSpec.Llama => new Llama(spec, vocab),
        _ => throw new ArgumentException($"unknown model type '{spec.Type}'", nameof(spec)),
    };

    /// <summary>The shapes of a job's model parameters, in the order a replica flattens them (what DCT momentum's blocks follow).</summary>
    public static IReadOnlyList<long[]> ParameterShapes(JobSpec spec)
    {
        using var model = Create(spec.Model, spec.Model.Vocab ?? spec.Data.Vocab);
        return [.. model.parameters().Select(p => p.shape)];
    }
}
