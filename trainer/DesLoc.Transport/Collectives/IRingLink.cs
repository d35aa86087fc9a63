using DesLoc.Transport.Membership;

namespace DesLoc.Transport.Collectives;

/// <summary>
/// How ring traffic moves between neighbours. <see cref="RingCollective"/> owns the schedule (chunks, steps, the
/// mean); a link only carries one operation's bytes: each ring step's payload out to the successor and in from
/// the predecessor, in order.
/// </summary>
public interface IRingLink
{
    IRingOperation Begin(QuorumView quorum, ulong operation, int successor, int predecessor, CancellationToken deadline);

    /// <summary>Drops whatever belongs to any quorum but <paramref name="current"/> (abandoned rounds, an earlier coordinator's ids).</summary>
    void KeepOnly(ulong current);
}

/// <summary>One collective operation's traffic. Sends and receives of a step may overlap.</summary>
public interface IRingOperation : IAsyncDisposable
{
    Task SendAsync(uint step, ReadOnlyMemory<byte> data);

    /// <summary>Feeds the predecessor's payload for <paramref name="step"/> to <paramref name="consume"/>, piece by piece, in order.</summary>
    Task ReceiveAsync(uint step, BytesConsumer consume);

    /// <summary>Ends the operation; returns the payload bytes this replica sent in it.</summary>
    Task<long> FinishAsync();
}

public delegate void BytesConsumer(ReadOnlySpan<byte> piece);
