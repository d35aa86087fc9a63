using System.Net;
using System.Net.Sockets;
using DesLoc.Operator.Local;

namespace DesLoc.Operator.Tests.Local;

public sealed class LoopbackPortsTests
{
    [Theory]
    [InlineData(32768, 60999, 1024, 32767)]    // Linux's default: the stretch below is larger
    [InlineData(49152, 65535, 1024, 49151)]    // the IANA range of macOS and Windows
    [InlineData(1024, 40000, 40001, 65535)]    // an ephemeral range that starts low leaves only the ports above
    [InlineData(10000, 65535, 1024, 9999)]     // one that ends at the top leaves only the ports below
    [InlineData(1024, 65000, 1024, 65535)]     // under 1,000 ports left outside: every unprivileged port, checked
    public void CandidateRange_IsTheLargerStretchOutsideTheEphemeralPorts(int low, int high, int expectedLow, int expectedHigh) =>
        Assert.Equal((expectedLow, expectedHigh), LoopbackPorts.CandidateRange((low, high)));

    [Fact]
    public void Ports_AreBindable_OutsideTheEphemeralRange_AndNeverHandedOutTwice()
    {
        // Linux says where its ephemeral ports are; elsewhere the IANA range is the default.
        const string path = "/proc/sys/net/ipv4/ip_local_port_range";
        string[] range = File.Exists(path) ? File.ReadAllText(path).Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries) : ["49152", "65535"];
        (int low, int high) = (int.Parse(range[0]), int.Parse(range[1]));

        int[] pairs = [.. Enumerable.Range(0, 50).Select(_ => LoopbackPorts.FreePair())];
        int[] singles = [.. Enumerable.Range(0, 50).Select(_ => LoopbackPorts.Free())];
        int[] all = [.. pairs, .. pairs.Select(p => p + 1), .. singles];

        Assert.Equal(all.Length, all.Distinct().Count());
        // Outside the ephemeral range, unless the kernel leaves too few ports outside it (the fallback, tested above).
        (int fromPort, int toPort) = LoopbackPorts.CandidateRange((low, high));
        Assert.All(all, port => Assert.InRange(port, fromPort, toPort));
        Assert.True(toPort < low || fromPort > high || (fromPort, toPort) == (1024, 65535), $"{fromPort}–{toPort} overlaps the ephemeral range {low}–{high}");
        Assert.All(all, port =>
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
        });
    }
}
