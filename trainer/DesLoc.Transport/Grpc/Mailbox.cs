using System.Collections.Concurrent;
using System.Threading.Channels;
using DesLoc.Transport.Membership;
using DesLoc.Transport.Protocol;

namespace DesLoc.Transport.Grpc;

/// <summary>
/// Segments pushed to this replica by its ring predecessor, queued per (quorum, operation) until the local
/// collective reads them. Unbounded, so a fast sender never blocks on a slow reader (the ring cannot deadlock).
/// </summary>
public sealed class Mailbox
{
    private readonly ConcurrentDictionary<(ulong Quorum, ulong Operation), Channel<Segment>> _queues = new();

    public ValueTask DeliverAsync(Segment segment, CancellationToken cancellationToken) =>
        Queue(segment.QuorumId, segment.Operation).Writer.WriteAsync(segment, cancellationToken);

    public ChannelReader<Segment> Reader(ulong quorum, ulong operation) => Queue(quorum, operation).Reader;

    public void Complete(ulong quorum, ulong operation) => _queues.TryRemove((quorum, operation), out _);

    /// <summary>
    /// Drops everything that belongs to any other quorum of <paramref name="current"/>'s ring channel (abandoned rounds,
    /// or late segments of finished ones); the other rings' queues stay.
    /// </summary>
    public void KeepOnly(ulong current)
    {
        foreach ((ulong Quorum, ulong Operation) key in _queues.Keys)
        {
            if (key.Quorum != current && RingChannels.SameChannel(key.Quorum, current))
            {
                _queues.TryRemove(key, out _);
            }
        }
    }

    private Channel<Segment> Queue(ulong quorum, ulong operation) =>
        _queues.GetOrAdd((quorum, operation), _ => Channel.CreateUnbounded<Segment>(new UnboundedChannelOptions { SingleReader = true }));
}
