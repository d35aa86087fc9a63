namespace DesLoc.Transport.Collectives;

/// <summary>
/// A socket stream under <see cref="System.Net.Security.SslStream"/> that moves bytes in large pieces: TLS reads and
/// writes one record (16 KiB at most) at a time, and a syscall, with its wake-up, per record costs far more than the
/// cipher. Writes gather until the buffer is full or the stream is flushed; a read takes as much as has arrived, up
/// to the buffer, and hands it out over later reads. Reads and writes keep separate buffers (unlike
/// <see cref="BufferedStream"/>, which cannot write on a socket stream after reading ahead), so one direction never
/// waits on the other.
/// </summary>
internal sealed class CoalescingStream(Stream inner, int bufferBytes) : Stream
{
    private readonly byte[] _written = new byte[bufferBytes];
    private readonly byte[] _read = new byte[bufferBytes];
    private int _writtenCount;
    private int _readStart;
    private int _readEnd;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_readStart == _readEnd)
        {
            if (buffer.Length >= _read.Length)
            {
                return await inner.ReadAsync(buffer, cancellationToken);
            }

            _readStart = 0;
            _readEnd = await inner.ReadAsync(_read, cancellationToken);
        }

        int count = Math.Min(buffer.Length, _readEnd - _readStart);
        _read.AsMemory(_readStart, count).CopyTo(buffer);
        _readStart += count;
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            if (_writtenCount == 0 && buffer.Length >= _written.Length)
            {
                await inner.WriteAsync(buffer, cancellationToken);
                return;
            }

            int count = Math.Min(buffer.Length, _written.Length - _writtenCount);
            buffer[..count].CopyTo(_written.AsMemory(_writtenCount));
            _writtenCount += count;
            buffer = buffer[count..];
            if (_writtenCount == _written.Length)
            {
                await DrainAsync(cancellationToken);
            }
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        await DrainAsync(cancellationToken);
        await inner.FlushAsync(cancellationToken);
    }

    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        if (_writtenCount > 0)
        {
            await inner.WriteAsync(_written.AsMemory(0, _writtenCount), cancellationToken);
            _writtenCount = 0;
        }
    }
}
