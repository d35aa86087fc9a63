using DesLoc.Operator.Kubernetes;

namespace DesLoc.Operator.Tests.Kubernetes;

public sealed class EventAggregationTests
{
    private static readonly DateTime s_first = new(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);
    private static readonly TimeSpan s_window = TimeSpan.FromMinutes(10);

    [Fact]
    public void A_first_occurrence_creates_an_event_with_count_one()
    {
        var decision = EventAggregation.Decide(null, s_first, s_window);

        Assert.Equal(new EventDecision(true, 1, s_first, s_first), decision);
    }

    [Fact]
    public void A_repeat_within_the_window_bumps_the_count_and_last_timestamp_and_keeps_the_first()
    {
        var previous = new EventSeries("job.1", "ns", 3, s_first, s_first.AddMinutes(5));
        var now = s_first.AddMinutes(15);

        var decision = EventAggregation.Decide(previous, now, s_window);

        Assert.Equal(new EventDecision(false, 4, s_first, now), decision);
    }

    [Fact]
    public void A_repeat_exactly_at_the_window_still_aggregates_and_one_past_it_starts_anew()
    {
        var previous = new EventSeries("job.1", "ns", 1, s_first, s_first);

        Assert.False(EventAggregation.Decide(previous, s_first + s_window, s_window).CreateNew);
        var after = s_first + s_window + TimeSpan.FromSeconds(1);
        Assert.Equal(new EventDecision(true, 1, after, after), EventAggregation.Decide(previous, after, s_window));
    }

    [Fact]
    public void A_clock_that_went_back_starts_a_new_event()
    {
        var previous = new EventSeries("job.1", "ns", 2, s_first, s_first.AddMinutes(1));
        var earlier = s_first.AddSeconds(-1);

        Assert.True(EventAggregation.Decide(previous, earlier, s_window).CreateNew);
    }
}
