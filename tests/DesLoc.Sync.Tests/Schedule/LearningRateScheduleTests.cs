using DesLoc.Sync.Schedule;

namespace DesLoc.Sync.Tests.Schedule;

public sealed class LearningRateScheduleTests
{
    private readonly LearningRateSchedule _schedule = new(Peak: 1e-3, WarmupSteps: 10, TotalSteps: 110, MinRatio: 0.1);

    [Fact]
    public void At_DuringWarmup_RisesLinearly()
    {
        Assert.Equal(1e-4, _schedule.At(1), 12);
        Assert.Equal(5e-4, _schedule.At(5), 12);
        Assert.Equal(1e-3, _schedule.At(10), 12);
    }

    [Fact]
    public void At_CosineHalfwayAndEnd_HitsMidpointAndFloor()
    {
        Assert.Equal(1e-3 * (0.1 + 0.9 * 0.5), _schedule.At(60), 12);
        Assert.Equal(1e-4, _schedule.At(110), 12);
        Assert.Equal(1e-4, _schedule.At(500), 12);
    }
}
