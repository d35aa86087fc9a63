using System.Net;
using System.Net.Sockets;

namespace DesLoc.Operator.Local;

/// <summary>
/// Free ports on 127.0.0.1 for replicas that start as local processes. They are drawn outside the kernel's
/// ephemeral range: a port freed after bind(0) lies inside it, and an outgoing connection (a gRPC client, a
/// scrape) can take it as its source port before the replica binds it.
/// </summary>
public static class LoopbackPorts
{
    private const int LowestUnprivileged = 1024;
    private const int MinimumStretch = 1_000;
    // Never handed out twice by one process, so its concurrent callers (parallel tests) cannot share a port. Separate
    // processes can still draw the same one, which the bind check before handing it out makes unlikely, not impossible.
    private static readonly HashSet<int> s_handedOut = [];
    private static readonly Lazy<(int Low, int High)> s_candidates = new(() => CandidateRange(ReadEphemeralRange()));

    public static int Free() => Take(1);

    /// <summary>A free port whose successor is free too: a replica's socket data plane listens on its gRPC port + 1.</summary>
    public static int FreePair() => Take(2);

    /// <summary>
    /// The larger stretch of unprivileged ports outside the ephemeral range [low, high], both bounds inclusive; for
    /// Linux's default 32768–60999 that is 1024–32767. A kernel that leaves fewer than 1,000 ports outside gets every
    /// unprivileged port: checked before use, they are the best there is.
    /// </summary>
    public static (int Low, int High) CandidateRange((int Low, int High) ephemeral)
    {
        (int Low, int High) below = (LowestUnprivileged, ephemeral.Low - 1);
        (int Low, int High) above = (Math.Max(ephemeral.High + 1, LowestUnprivileged), IPEndPoint.MaxPort);
        (int Low, int High) larger = below.High - below.Low >= above.High - above.Low ? below : above;
        return larger.High - larger.Low + 1 >= MinimumStretch ? larger : (LowestUnprivileged, IPEndPoint.MaxPort);
    }

    private static int Take(int count)
    {
        (int low, int high) = s_candidates.Value;
        lock (s_handedOut)
        {
            for (int attempt = 0; attempt < 1_000; attempt++)
            {
                int port = Random.Shared.Next(low, high - count + 2);
                int[] ports = [.. Enumerable.Range(port, count)];
                if (ports.All(p => !s_handedOut.Contains(p) && IsFree(p)))
                {
                    s_handedOut.UnionWith(ports);
                    return port;
                }
            }
        }

        throw new InvalidOperationException($"No {count} free consecutive loopback port(s) found in {low}–{high} after 1,000 tries.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var probe = new TcpListener(IPAddress.Loopback, port);
            probe.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Linux says where its ephemeral ports are; elsewhere the IANA range (macOS, Windows) is the default.</summary>
    private static (int Low, int High) ReadEphemeralRange()
    {
        const string path = "/proc/sys/net/ipv4/ip_local_port_range";
        string[] parts = File.Exists(path) ? File.ReadAllText(path).Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries) : [];
        return parts.Length == 2 && int.TryParse(parts[0], out int low) && int.TryParse(parts[1], out int high)
            ? (low, high)
            : (49152, 65535);
    }
}
