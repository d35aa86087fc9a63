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

        return errors;
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
