using DesLoc.Operator.Kubernetes;
using Microsoft.Extensions.Time.Testing;

namespace DesLoc.Operator.Tests.Kubernetes;

public sealed class CreationExpectationsTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void An_owner_with_nothing_expected_is_satisfied()
    {
        var expectations = new CreationExpectations(_time);

        Assert.True(expectations.IsSatisfied("ns/job"));
        Assert.Null(expectations.CreationObserved("ns/pod-0"));
    }

    [Fact]
    public void A_creation_is_pending_until_the_cache_observes_it()
    {
        var expectations = new CreationExpectations(_time);
        expectations.ExpectCreation("ns/job", "ns/pod-0");
        expectations.ExpectCreation("ns/job", "ns/pod-1");

        Assert.False(expectations.IsSatisfied("ns/job"));
        Assert.Equal("ns/job", expectations.CreationObserved("ns/pod-0"));
        Assert.Equal(["ns/pod-1"], expectations.Pending("ns/job"));
        Assert.Equal("ns/job", expectations.CreationObserved("ns/pod-1"));
        Assert.True(expectations.IsSatisfied("ns/job"));
        Assert.Null(expectations.CreationObserved("ns/pod-1"));
    }

    [Fact]
    public void An_unobserved_creation_expires_after_the_timeout()
    {
        var expectations = new CreationExpectations(_time, TimeSpan.FromMinutes(5));
        expectations.ExpectCreation("ns/job", "ns/pod-0");

        _time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromTicks(1));
        Assert.False(expectations.IsSatisfied("ns/job"));
        _time.Advance(TimeSpan.FromTicks(1));
        Assert.True(expectations.IsSatisfied("ns/job"));
    }

    [Fact]
    public void A_failed_creation_and_a_forgotten_owner_stop_being_expected()
    {
        var expectations = new CreationExpectations(_time);
        expectations.ExpectCreation("ns/a", "ns/a-0");
        expectations.ExpectCreation("ns/b", "ns/b-0");
        expectations.ExpectCreation("ns/b", "ns/b-1");

        expectations.CreationFailed("ns/a", "ns/a-0");
        expectations.Forget("ns/b");

        Assert.True(expectations.IsSatisfied("ns/a"));
        Assert.True(expectations.IsSatisfied("ns/b"));
        Assert.Null(expectations.CreationObserved("ns/b-1"));
    }

    [Fact]
    public void Owners_are_tracked_apart()
    {
        var expectations = new CreationExpectations(_time);
        expectations.ExpectCreation("ns/a", "ns/a-0");
        expectations.ExpectCreation("ns/b", "ns/b-0");

        expectations.CreationObserved("ns/a-0");

        Assert.True(expectations.IsSatisfied("ns/a"));
        Assert.False(expectations.IsSatisfied("ns/b"));
    }
}
