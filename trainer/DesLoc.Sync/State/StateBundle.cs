using System.Security.Cryptography;

namespace DesLoc.Sync.State;

/// <summary>
/// A replica's complete state as named sections of float32 or int64 values: what heal sends to a joiner, what a
/// rollback restores and what a checkpoint holds. The binary form is versioned, little-endian, and ends with a
/// SHA-256 of everything before it, so a truncated or corrupted copy is detected, never half-loaded.
/// </summary>
public sealed class StateBundle
{
    private const uint Magic = 0x534C4544; // "DELS"
    private const int Version = 1;
    private readonly SortedDictionary<string, float[]> _floats = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, long[]> _longs = new(StringComparer.Ordinal);

    public void SetFloats(string name, ReadOnlySpan<float> values) => _floats[name] = values.ToArray();

    public void SetLongs(string name, params long[] values) => _longs[name] = values.ToArray();

    public float[] Floats(string name) =>
        _floats.TryGetValue(name, out float[]? values) ? values : throw new InvalidDataException($"The state has no section '{name}'.");

    public long[] Longs(string name) =>
        _longs.TryGetValue(name, out long[]? values) ? values : throw new InvalidDataException($"The state has no section '{name}'.");

    public long Scalar(string name) => Longs(name)[0];

    public bool Has(string name) => _floats.ContainsKey(name) || _longs.ContainsKey(name);

    public byte[] ToBytes()
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(Version);
            writer.Write(_floats.Count);
            foreach ((string name, float[] values) in _floats)
            {
                writer.Write(name);
                writer.Write(values.Length);
                writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
            }

            writer.Write(_longs.Count);
            foreach ((string name, long[] values) in _longs)
            {
                writer.Write(name);
                writer.Write(values.Length);
                writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
            }
        }

        byte[] body = buffer.ToArray();
        byte[] result = new byte[body.Length + 32];
        body.CopyTo(result, 0);
        SHA256.HashData(body, result.AsSpan(body.Length));
        return result;
    }

    /// <summary>Parses <see cref="ToBytes"/>'s output; throws <see cref="InvalidDataException"/> when it is truncated or corrupt.</summary>
    public static StateBundle FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 32 + 12)
        {
            throw new InvalidDataException($"State is truncated ({bytes.Length} bytes).");
        }

        ReadOnlySpan<byte> body = bytes[..^32];
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(bytes[^32..]))
        {
            throw new InvalidDataException("State checksum does not match: the data is truncated or corrupt.");
        }

        var bundle = new StateBundle();
        using var reader = new BinaryReader(new MemoryStream(body.ToArray()));
        if (reader.ReadUInt32() != Magic || reader.ReadInt32() != Version)
        {
            throw new InvalidDataException("Not a DesLoc state (bad magic or version).");
        }

        int floatSections = reader.ReadInt32();
        for (int i = 0; i < floatSections; i++)
        {
            string name = reader.ReadString();
            float[] values = new float[reader.ReadInt32()];
            reader.BaseStream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
            bundle._floats[name] = values;
        }

        int longSections = reader.ReadInt32();
        for (int i = 0; i < longSections; i++)
        {
            string name = reader.ReadString();
            long[] values = new long[reader.ReadInt32()];
            reader.BaseStream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
            bundle._longs[name] = values;
        }

        return bundle;
    }
}
