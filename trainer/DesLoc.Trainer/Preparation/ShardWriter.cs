using System.Buffers.Binary;
using System.Security.Cryptography;
using DesLoc.Trainer.Data;

namespace DesLoc.Trainer.Preparation;

/// <summary>
/// Appends tokens to numbered shard files of at most <paramref name="shardTokens"/> tokens each (little-endian uint16),
/// hashing them as they are written.
/// </summary>
internal sealed class ShardWriter(string directory, string prefix, long shardTokens) : IDisposable
{
    private readonly List<ShardFile> _written = [];
    private readonly byte[] _buffer = new byte[64 * 1024];
    private FileStream? _file;
    private IncrementalHash? _hash;
    private string? _name;
    private long _inShard;
    private int _buffered;

    public long Tokens { get; private set; }

    public void Append(ReadOnlySpan<int> tokens)
    {
        foreach (int token in tokens)
        {
            if (_file is null)
            {
                _name = $"{prefix}-{_written.Count:D6}.bin";
                _file = new FileStream(Path.Combine(directory, _name), FileMode.CreateNew, FileAccess.Write);
                _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            }

            BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(_buffered), checked((ushort)token));
            _buffered += ShardManifest.BytesPerToken;
            _inShard++;
            Tokens++;
            if (_buffered == _buffer.Length)
            {
                Flush();
            }

            if (_inShard == shardTokens)
            {
                Close();
            }
        }
    }

    /// <summary>Closes the last shard and returns them all, in order.</summary>
    public IReadOnlyList<ShardFile> Finish()
    {
        Close();
        return _written;
    }

    public void Dispose()
    {
        _file?.Dispose();
        _hash?.Dispose();
    }

    private void Flush()
    {
        _file!.Write(_buffer, 0, _buffered);
        _hash!.AppendData(_buffer, 0, _buffered);
        _buffered = 0;
    }

    private void Close()
    {
        if (_file is null)
        {
            return;
        }

        Flush();
        _file.Dispose();
        _written.Add(new ShardFile(_name!, _inShard, Convert.ToHexStringLower(_hash!.GetHashAndReset())));
        _hash.Dispose();
        (_file, _hash, _name, _inShard) = (null, null, null, 0);
    }
}
