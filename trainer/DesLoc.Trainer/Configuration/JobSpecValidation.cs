using DesLoc.Sync.Algorithms;

namespace DesLoc.Trainer.Configuration;

/// <summary>
/// Every check that must pass before training starts. Errors name the field by its spec path and say what to
/// fix; all of them are reported at once.
/// </summary>
public static class JobSpecValidation
{
    public static IReadOnlyList<string> Validate(JobSpec spec, Func<string, bool>? fileExists = null)
    {
        fileExists ??= File.Exists;
        var errors = new List<string>();
        AtLeast(errors, "replicas", spec.Replicas, 1);
        if (spec.MinReplicas is { } minReplicas && (minReplicas < 1 || minReplicas > spec.Replicas))
        {
            errors.Add($"minReplicas must be between 1 and replicas ({spec.Replicas}) (got {minReplicas}).");
        }

        AtLeast(errors, "checkpoint.everySteps", spec.Checkpoint.EverySteps, 0);
        AtLeast(errors, "checkpoint.keep", spec.Checkpoint.Keep, 1);
        if (spec.Transport.DataPlane is not ("socket" or "grpc"))
        {
            errors.Add($"transport.dataPlane must be socket or grpc (got {spec.Transport.DataPlane}).");
        }

        Positive(errors, "faultTolerance.roundTimeoutSeconds", spec.FaultTolerance.RoundTimeoutSeconds);
        Positive(errors, "faultTolerance.joinTimeoutSeconds", spec.FaultTolerance.JoinTimeoutSeconds);
        Positive(errors, "faultTolerance.arrivalTimeoutSeconds", spec.FaultTolerance.ArrivalTimeoutSeconds);
        ValidateModel(errors, spec.Model);
        ValidateData(errors, spec.Data, fileExists);
        ValidateTraining(errors, spec.Training);
        errors.AddRange(AlgorithmValidation.Validate(spec.Algorithm, spec.Training.LearningRate));
        if (spec.Model.Vocab is { } vocab && vocab < DataVocab(spec.Data))
        {
            errors.Add($"model.vocab ({vocab}) must be at least the data's vocabulary ({DataVocab(spec.Data)}); leave it out to use the data's.");
        }

        return errors;
    }

    /// <summary>Tokens the data can produce: 256 for bytes of a text file, else the synthetic vocabulary.</summary>
    public static int DataVocab(DataSpec data) => data.Path is not null ? 256 : (data.Synthetic ?? new SyntheticSpec()).Vocab;

    private static void ValidateModel(List<string> errors, ModelSpec model)
    {
        if (!string.Equals(model.Type, "gpt", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"model.type must be gpt (got {model.Type}).");
        }

        AtLeast(errors, "model.layers", model.Layers, 1);
        AtLeast(errors, "model.dim", model.Dim, 1);
        AtLeast(errors, "model.heads", model.Heads, 1);
        AtLeast(errors, "model.context", model.Context, 1);
        if (model.Heads >= 1 && model.Dim >= 1 && model.Dim % model.Heads != 0)
        {
            errors.Add($"model.dim ({model.Dim}) must be a multiple of model.heads ({model.Heads}).");
        }
    }

    private static void ValidateData(List<string> errors, DataSpec data, Func<string, bool> fileExists)
    {
        if (data.Path is not null && data.Synthetic is not null)
        {
            errors.Add("data must set either data.path or data.synthetic, not both.");
        }

        if (data.Path is not null && !fileExists(data.Path))
        {
            errors.Add($"data.path: no file at '{data.Path}'; give the path of a text file, or use data.synthetic.");
        }

        if (data.Path is null && data.Synthetic is { } synthetic)
        {
            if (synthetic.Vocab < 2 || synthetic.Vocab > 256)
            {
                errors.Add($"data.synthetic.vocab must be between 2 and 256 (got {synthetic.Vocab}).");
            }

            if (synthetic.Order < 1 || System.Math.Pow(synthetic.Vocab, synthetic.Order) > 1 << 20)
            {
                errors.Add($"data.synthetic.order must be at least 1 with vocab^order at most 2^20 states (got order {synthetic.Order}).");
            }

            if (!(synthetic.Sharpness >= 0))
            {
                errors.Add($"data.synthetic.sharpness must be non-negative (got {synthetic.Sharpness}).");
            }
        }
    }

    private static void ValidateTraining(List<string> errors, TrainingSpec training)
    {
        AtLeast(errors, "training.steps", training.Steps, 1);
        AtLeast(errors, "training.batchSize", training.BatchSize, 1);
        AtLeast(errors, "training.warmupSteps", training.WarmupSteps, 0);
        AtLeast(errors, "training.evalBatches", training.EvalBatches, 0);
        Positive(errors, "training.learningRate", training.LearningRate);
        InRange(errors, "training.minLearningRateRatio", training.MinLearningRateRatio, 0, 1, upperInclusive: true);
        InRange(errors, "training.beta1", training.Beta1, 0, 1, upperInclusive: false);
        InRange(errors, "training.beta2", training.Beta2, 0, 1, upperInclusive: false);
        if (!(training.GradClip >= 0))
        {
            errors.Add($"training.gradClip must be non-negative, 0 to disable (got {training.GradClip}).");
        }

        if (!(training.WeightDecay >= 0))
        {
            errors.Add($"training.weightDecay must be non-negative (got {training.WeightDecay}).");
        }
    }

    private static void AtLeast(List<string> errors, string path, int value, int minimum)
    {
        if (value < minimum)
        {
            errors.Add($"{path} must be at least {minimum} (got {value}).");
        }
    }

    private static void Positive(List<string> errors, string path, double value)
    {
        if (!(value > 0))
        {
            errors.Add($"{path} must be positive (got {value}).");
        }
    }

    private static void InRange(List<string> errors, string path, double value, double low, double high, bool upperInclusive)
    {
        bool ok = value >= low && (upperInclusive ? value <= high : value < high);
        if (!ok)
        {
            errors.Add($"{path} must be in [{low}, {high}{(upperInclusive ? "]" : ")")} (got {value}).");
        }
    }
}
