namespace DesLoc.Operator.Tests.Kubernetes;

/// <summary>Polls a condition that another task makes true, failing after a generous timeout.</summary>
internal static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, string what, double seconds = 10)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(5);
        }
    }
}
