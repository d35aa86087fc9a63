namespace DesLoc.Sync.Algorithms;

/// <summary>
/// Checks an <see cref="AlgorithmSpec"/> before anything trains. Each error names the field by its path in the
/// job spec (for example <c>algorithm.desloc.kx</c>) and says what to fix. Only the block of the chosen type is checked.
/// </summary>
public static class AlgorithmValidation
{
    public static IReadOnlyList<string> Validate(AlgorithmSpec spec, double peakLearningRate)
    {
        var errors = new List<string>();
        switch (spec.Type)
        {
            case AlgorithmType.DDP:
                break;
            case AlgorithmType.LocalAdam:
                AtLeast(errors, "algorithm.localAdam.period", spec.LocalAdam.Period, 1);
                break;
            case AlgorithmType.DESLOC:
                AtLeast(errors, "algorithm.desloc.kx", spec.Desloc.Kx, 1);
                AtLeast(errors, "algorithm.desloc.ku", spec.Desloc.EffectiveKu, 1);
                AtLeast(errors, "algorithm.desloc.kv", spec.Desloc.EffectiveKv, 1);
                break;
            case AlgorithmType.DiLoCo:
                AtLeast(errors, "algorithm.diloco.period", spec.Diloco.Period, 1);
                Outer(errors, "algorithm.diloco", spec.Diloco.OuterLr, spec.Diloco.OuterMomentum);
                break;
            case AlgorithmType.PALSGD:
                ValidatePalsgd(errors, spec.Palsgd, peakLearningRate);
                break;
            case AlgorithmType.DCTMomentum:
                ValidateDct(errors, spec.Dct);
                break;
            default:
                errors.Add($"algorithm.type must be one of {string.Join(", ", Enum.GetNames<AlgorithmType>())} (got {spec.Type}).");
                break;
        }

        return errors;
    }

    private static void ValidatePalsgd(List<string> errors, PalsgdSettings palsgd, double peakLearningRate)
    {
        AtLeast(errors, "algorithm.palsgd.period", palsgd.Period, 1);
        AtLeast(errors, "algorithm.palsgd.warmupSteps", palsgd.WarmupSteps, 0);
        Outer(errors, "algorithm.palsgd", palsgd.OuterLr, palsgd.OuterMomentum);
        // p = 0 is allowed on purpose: PALSGD then is DiLoCo after a DDP warm-up (a tested identity).
        // p >= 1 would never take a gradient step, and the gradient step's lr is scaled by 1/(1-p).
        if (!(palsgd.Probability >= 0 && palsgd.Probability < 1))
        {
            errors.Add($"algorithm.palsgd.probability must be in [0, 1) (got {palsgd.Probability}).");
        }

        if (!(palsgd.Eta > 0))
        {
            errors.Add($"algorithm.palsgd.eta must be positive (got {palsgd.Eta}).");
        }
        else if (palsgd.Probability > 0 && peakLearningRate * palsgd.Eta / palsgd.Probability >= 1)
        {
            errors.Add(
                $"algorithm.palsgd.eta × training.learningRate / algorithm.palsgd.probability must be below 1, or the pseudo-sync " +
                $"step overshoots the anchor (got {peakLearningRate * palsgd.Eta / palsgd.Probability:0.###}); lower eta or raise probability.");
        }
    }

    private static void ValidateDct(List<string> errors, DctSettings dct)
    {
        AtLeast(errors, "algorithm.dct.period", dct.Period, 1);
        if (dct.Chunk < 1 || dct.Chunk > 65536)
        {
            errors.Add($"algorithm.dct.chunk must be between 1 and 65536 (got {dct.Chunk}).");
        }

        if (dct.TopK < 1 || dct.TopK > dct.Chunk)
        {
            errors.Add($"algorithm.dct.topK must be between 1 and algorithm.dct.chunk ({dct.Chunk}) (got {dct.TopK}).");
        }

        if (!(dct.Decay >= 0 && dct.Decay < 1))
        {
            errors.Add($"algorithm.dct.decay must be in [0, 1) (got {dct.Decay}).");
        }

        if (!(dct.OuterLr > 0))
        {
            errors.Add($"algorithm.dct.outerLr must be positive (got {dct.OuterLr}).");
        }
    }

    private static void Outer(List<string> errors, string path, double outerLr, double outerMomentum)
    {
        if (!(outerLr > 0))
        {
            errors.Add($"{path}.outerLr must be positive (got {outerLr}).");
        }

        if (!(outerMomentum >= 0 && outerMomentum < 1))
        {
            errors.Add($"{path}.outerMomentum must be in [0, 1) (got {outerMomentum}).");
        }
    }

    private static void AtLeast(List<string> errors, string path, int value, int minimum)
    {
        if (value < minimum)
        {
            errors.Add($"{path} must be at least {minimum} (got {value}).");
        }
    }
}
