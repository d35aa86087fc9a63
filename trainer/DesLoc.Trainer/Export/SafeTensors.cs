using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;

namespace DesLoc.Trainer.Export;

/// <summary>One float32 tensor of a safetensors file: its name, shape and values (row-major).</summary>
internal sealed record NamedTensor(string Name, long[] Shape, float[] Values)
{
    public NamedTensor Transposed()
    {
        if (Shape.Length != 2)
        {
            throw new InvalidOperationException($"{Name}: only a matrix can be transposed, not shape [{string.Join(", ", Shape)}].");
        }

        (int rows, int columns) = ((int)Shape[0], (int)Shape[1]);
        float[] values = new float[Values.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                values[(c * rows) + r] = Values[(r * columns) + c];
            }
        }

        return new NamedTensor(Name, [columns, rows], values);
    }
}

/// <summary>
/// The safetensors format (huggingface/safetensors): an 8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and [begin, end) byte offsets into the data that follows (plus string <c>__metadata__</c>),
/// padded with spaces to a multiple of 8, then the tensors' raw little-endian bytes back to back. Only F32 is written
/// and read: the trainer's weights are float32. (No NuGet package reads and writes it without pulling in an ML runtime.)
/// </summary>
internal static class SafeTensors
{
    private const string MetadataKey = "__metadata__";

    public static void Write(string path, IReadOnlyList<NamedTensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        var header = new JsonObject { [MetadataKey] = new JsonObject([.. metadata.Select(m => KeyValuePair.Create(m.Key, (JsonNode?)m.Value))]) };
        long offset = 0;
        foreach (NamedTensor tensor in tensors)
        {
            if (tensor.Values.LongLength != tensor.Shape.Aggregate(1L, (a, b) => a * b))
            {
                throw new ArgumentException($"{tensor.Name}: {tensor.Values.Length} values do not fill shape [{string.Join(", ", tensor.Shape)}].", nameof(tensors));
            }

            long end = offset + (tensor.Values.LongLength * sizeof(float));
            header[tensor.Name] = new JsonObject
            {
                ["dtype"] = "F32",
                ["shape"] = new JsonArray([.. tensor.Shape.Select(d => (JsonNode?)d)]),
                ["data_offsets"] = new JsonArray(offset, end),
            };
            offset = end;
        }

        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8;
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
        file.Write(length);
        file.Write(json);
        file.Write(Enumerable.Repeat((byte)' ', padded - json.Length).ToArray());
        foreach (NamedTensor tensor in tensors)
        {
            WriteLittleEndian(file, tensor.Values);
        }
    }

    /// <summary>Every tensor of the file in header order, and its metadata; anything malformed is refused with the file named.</summary>
    public static (IReadOnlyList<NamedTensor> Tensors, IReadOnlyDictionary<string, string> Metadata) Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8)
        {
            throw new InvalidDataException($"{path}: too short for a safetensors file ({bytes.Length} bytes).");
        }

        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8))
        {
            throw new InvalidDataException($"{path}: header length {headerLength} exceeds the file.");
        }

        int dataStart = 8 + (int)headerLength;
        JsonObject header = JsonNode.Parse(bytes.AsSpan(8, (int)headerLength))?.AsObject()
            ?? throw new InvalidDataException($"{path}: the header is not a JSON object.");
        var metadata = new Dictionary<string, string>();
        var tensors = new List<NamedTensor>();
        foreach ((string name, JsonNode? node) in header)
        {
            if (name == MetadataKey)
            {
                foreach ((string key, JsonNode? value) in node!.AsObject())
                {
                    metadata[key] = value!.GetValue<string>();
                }

                continue;
            }

            string dtype = node!["dtype"]!.GetValue<string>();
            if (dtype != "F32")
            {
                throw new InvalidDataException($"{path}: tensor {name} is {dtype}; only F32 is read.");
            }

            long[] shape = [.. node["shape"]!.AsArray().Select(d => d!.GetValue<long>())];
            long begin = node["data_offsets"]![0]!.GetValue<long>();
            long end = node["data_offsets"]![1]!.GetValue<long>();
            long count = shape.Aggregate(1L, (a, b) => a * b);
            if (begin < 0 || end - begin != count * sizeof(float) || dataStart + end > bytes.Length)
            {
                throw new InvalidDataException($"{path}: tensor {name}'s offsets [{begin}, {end}) do not hold shape [{string.Join(", ", shape)}] inside the file.");
            }

            float[] values = new float[count];
            ReadOnlySpan<byte> raw = bytes.AsSpan(dataStart + (int)begin, (int)(end - begin));
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = BinaryPrimitives.ReadSingleLittleEndian(raw[(i * sizeof(float))..]);
            }

            tensors.Add(new NamedTensor(name, shape, values));
        }

        return (tensors, metadata);
    }

    private static void WriteLittleEndian(Stream stream, float[] values)
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(values.AsSpan()));
            return;
        }

        byte[] buffer = new byte[sizeof(float)];
        foreach (float value in values)
        {
            BinaryPrimitives.WriteSingleLittleEndian(buffer, value);
            stream.Write(buffer);
        }
    }
}
