using System.Diagnostics;
using System.Globalization;
using DesLoc.Operator.Local;

namespace DesLoc.Bench.Claims;

/// <summary>The namespaces bench/netns.sh makes: replica r runs in desloc-r{r} at 10.231.77.{r+1}, its link shaped by tc.</summary>
internal static class Namespaces
{
    public static ReplicaNetwork Network { get; } = new(
        rank => string.Create(CultureInfo.InvariantCulture, $"10.231.77.{rank + 1}"),
        "0.0.0.0",
        rank => ["ip", "netns", "exec", string.Create(CultureInfo.InvariantCulture, $"desloc-r{rank}")]);

    /// <summary>Whether bench/netns.sh is up, bridged or behind the delay line: the first replica's namespace and the host's way in.</summary>
    public static bool Present() => File.Exists("/run/netns/desloc-r0") && Directory.Exists("/sys/class/net/desloc-op");

    /// <summary>Shapes every replica's outgoing link to <paramref name="rate"/> (tc syntax: 1gbit, 50mbit).</summary>
    public static async Task SetRateAsync(string rate)
    {
        using Process process = Process.Start(new ProcessStartInfo("bash", ["bench/netns.sh", "rate", rate]) { UseShellExecute = false })!;
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"bench/netns.sh rate {rate} exited with {process.ExitCode}");
        }
    }
}
