using System.Net;
using System.Net.Sockets;
using DesLoc.Operator.Reconciliation;

namespace DesLoc.Operator.Local;

/// <summary>Replicas as processes on loopback: each gets a free gRPC port (whose successor, the data port, is free too) and a metrics port.</summary>
public static class LocalLayout
{
    public static ReplicaLayout Create(int replicas, string runDirectory, ReplicaNetwork? network = null)
    {
        var used = new HashSet<int>();
        int[] grpc = [.. Enumerable.Range(0, replicas).Select(_ => FreePort(used, pair: true))];
        int[] metrics = [.. Enumerable.Range(0, replicas).Select(_ => FreePort(used, pair: false))];
        return new ReplicaLayout(
            network?.Host ?? (_ => "127.0.0.1"),
            index => grpc[index],
            index => metrics[index],
            network?.BindAddress ?? "127.0.0.1",
            Path.Combine(runDirectory, "config.json"),
            Path.Combine(runDirectory, "checkpoints"));
    }

    private static int FreePort(HashSet<int> used, bool pair)
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            if (used.Contains(port) || (pair && (used.Contains(port + 1) || !IsFree(port + 1))))
            {
                continue;
            }

            used.Add(port);
            if (pair)
            {
                used.Add(port + 1);
            }

            return port;
        }
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
}
