namespace DesLoc.Sync.Schedule;

/// <summary>
/// Linear warm-up to the peak learning rate, then cosine decay to <c>peak·minRatio</c> at the last step.
/// A pure function of the step, so a healed replica resumes on the same curve.
/// </summary>
public sealed record LearningRateSchedule(double Peak, long WarmupSteps, long TotalSteps, double MinRatio)
{
    public double At(long step)
    {
        if (WarmupSteps > 0 && step <= WarmupSteps)
        {
            return Peak * step / WarmupSteps;
        }

        long decaySteps = System.Math.Max(1, TotalSteps - WarmupSteps);
        double progress = System.Math.Clamp((double)(step - WarmupSteps) / decaySteps, 0, 1);
        double cosine = 0.5 * (1 + System.Math.Cos(System.Math.PI * progress));
        return Peak * (MinRatio + (1 - MinRatio) * cosine);
    }
}
