namespace DesLoc.Testing;

/// <summary>Polls a condition that another task or process makes true, failing after a generous timeout.</summary>
public static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, string what, double seconds = 10)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"timed out waiting until {what}");
            }

            await Task.Delay(5);
        }
    }
}
