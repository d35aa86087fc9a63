using System.Net;
using System.Net.Sockets;

namespace DesLoc.Testing;

/// <summary>Free ports on 127.0.0.1 for servers that tests and benchmarks start.</summary>
public static class LoopbackPorts
{
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A free port whose successor is free too: a replica's socket data plane listens on its gRPC port + 1.</summary>
    public static int FreePair()
    {
        while (true)
        {
            int port = Free();
            try
            {
                using var next = new TcpListener(IPAddress.Loopback, port + 1);
                next.Start();
                return port;
            }
            catch (SocketException)
            {
            }
        }
    }
}
