using DesLoc.Contract.Validation;

namespace DesLoc.Trainer.Configuration;

/// <summary>
/// Everything checked before training starts: the contract's one validator (what the CRD also checks), then what only
/// the machine the trainer runs on can tell. Errors name the field by its spec path and say what to fix.
/// </summary>
public static class Preflight
{
    public static IReadOnlyList<SpecError> Check(JobSpec spec, Func<string, bool>? fileExists = null)
    {
        fileExists ??= File.Exists;
        List<SpecError> errors = [.. JobSpecValidation.Validate(spec)];
        if (spec.Data.Path is { } path && !fileExists(path))
        {
            errors.Add(new("spec.data.path", $"no file at '{path}'; give the path of a text file in the trainer's container, or use data.synthetic"));
        }

        if (spec.Data.Shards is { } shards && !fileExists(System.IO.Path.Combine(shards, DataSpec.ManifestFile)))
        {
            errors.Add(new("spec.data.shards", $"no {DataSpec.ManifestFile} in '{shards}'; give the directory that desloc-trainer prepare --output wrote, in the trainer's container"));
        }

        return errors;
    }

    /// <summary>
    /// Null when <paramref name="workers"/> workers of the job fit in one process with <paramref name="availableBytes"/>
    /// (the machine's memory, or the container's limit): they share one runtime.
    /// </summary>
    public static SpecError? CheckMemory(JobSpec spec, int workers, long availableBytes, bool onGpu = false)
    {
        MemoryEstimate worker = MemoryEstimate.For(spec, spec.Data.Vocab);
        long needed = ((worker.HostBytes(onGpu) - worker.Runtime) * workers) + worker.Runtime;
        return needed <= availableBytes
            ? null
            : new SpecError("spec.model",
                $"{(workers == 1 ? "this worker needs" : $"{workers} workers in this process need")} {MemoryEstimate.Gib(needed)} ({worker.Describe()} per worker) and {MemoryEstimate.Gib(availableBytes)} is available; shrink spec.model or spec.training.batchSize");
    }

    /// <summary>Throws what to fix when the job's workers in this process cannot fit in the memory it may use.</summary>
    public static void ThrowIfTooLarge(JobSpec spec, int workers)
    {
        bool onGpu = Training.Devices.Preferred().type == TorchSharp.DeviceType.CUDA;
        if (CheckMemory(spec, workers, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes, onGpu) is { } error)
        {
            throw new ConfigurationException(error.ToString());
        }
    }

    /// <summary>Throws what to fix, every error on its own line, when the spec cannot train.</summary>
    public static void ThrowIfInvalid(JobSpec spec)
    {
        IReadOnlyList<SpecError> errors = Check(spec);
        if (errors.Count > 0)
        {
            throw new ConfigurationException(string.Join(Environment.NewLine, errors));
        }
    }
}
