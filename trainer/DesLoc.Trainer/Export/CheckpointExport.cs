using DesLoc.Trainer.Checkpoints;
using DesLoc.Trainer.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DesLoc.Trainer.Export;

/// <summary>
/// <c>desloc-trainer export</c>: the model of a checkpoint as an export directory. The checkpoint directory may be a
/// replica's (it holds <c>manifest.json</c>) or a job's checkpoint root (its <c>rank-0/</c>, or <c>rank-0/worker-0/</c> with
/// several workers, is used); the job spec stored beside the checkpoints (<c>job.json</c>) says which model it is.
/// </summary>
internal static class CheckpointExport
{
    /// <summary>Exports step <paramref name="step"/> (the newest valid one when null); returns (the step, the directory written).</summary>
    public static (long Step, string Directory) Run(string checkpoint, long? step, string output, Action<string>? warn = null)
    {
        string directory = ReplicaDirectory(checkpoint);
        var store = new CheckpointStore(directory, int.MaxValue, warn);
        JobSpec spec = store.ReadSpec()
            ?? throw new InvalidDataException($"{Path.Combine(directory, CheckpointStore.SpecName)}: no such file; checkpoints written before the spec was stored with them cannot be exported.");
        IReadOnlyList<long> steps = store.ValidSteps();
        long chosen = step ?? (steps.Count > 0 ? steps[^1] : throw new InvalidDataException($"{directory}: no valid checkpoint."));
        float[] parameters = store.Load(chosen).Floats("replica.params");

        using var model = LanguageModels.Create(spec.Model, spec.Model.Vocab ?? spec.Data.Vocab);
        long count = model.parameters().Sum(p => p.numel());
        if (count != parameters.Length)
        {
            throw new InvalidDataException($"{directory}: checkpoint of step {chosen} holds {parameters.Length} parameters; the model in {CheckpointStore.SpecName} has {count}.");
        }

        // The checkpoint's parameters are the optimizer's, flattened in the model's parameter order.
        using (no_grad())
        {
            int offset = 0;
            foreach (Parameter parameter in model.parameters())
            {
                int n = (int)parameter.numel();
                using var scope = NewDisposeScope();
                parameter.copy_(tensor(parameters.AsSpan(offset, n).ToArray(), parameter.shape));
                offset += n;
            }
        }

        return (chosen, ModelExport.Write(model, spec, output));
    }

    private static string ReplicaDirectory(string checkpoint)
    {
        string[] candidates = [checkpoint, Path.Combine(checkpoint, "rank-0"), Path.Combine(checkpoint, "rank-0", "worker-0")];
        return candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, "manifest.json")))
            ?? throw new DirectoryNotFoundException($"{checkpoint}: no manifest.json in it, its rank-0/ or rank-0/worker-0/; --checkpoint names a checkpoint directory.");
    }
}
