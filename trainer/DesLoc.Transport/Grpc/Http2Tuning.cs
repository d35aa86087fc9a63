using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace DesLoc.Transport.Grpc;

/// <summary>
/// HTTP/2 settings for bulk ring traffic. The defaults (64 KiB to 1 MiB flow-control windows, 16 KiB frames) make a
/// single large stream wait on window updates; sync rounds move hundreds of MiB over one stream per peer.
/// </summary>
public static class Http2Tuning
{
    /// <summary>Per stream; 16 MiB is the most .NET's HTTP/2 client accepts.</summary>
    public const int StreamWindowBytes = 16 << 20;
    public const int ConnectionWindowBytes = 32 << 20;
    public const int FrameBytes = 1 << 20;

    public static void ApplyTo(Http2Limits limits)
    {
        limits.InitialConnectionWindowSize = ConnectionWindowBytes;
        limits.InitialStreamWindowSize = StreamWindowBytes;
        limits.MaxFrameSize = FrameBytes;
    }
}
