using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using DesLoc.Trainer.Export;

namespace DesLoc.Trainer.Tests.Export;

/// <summary>The safetensors writer and reader against the format's layout, byte for byte.</summary>
public sealed class SafeTensorsTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"desloc-{Guid.NewGuid():N}.safetensors");

    [Fact]
    public void Write_LaysOutHeaderOffsetsAndLittleEndianData_AndReadGivesTheSameBits()
    {
        float[] matrix = [1.5f, -0f, float.Epsilon, float.MaxValue, float.NaN, -3.25f];
        float[] vector = [BitConverter.Int32BitsToSingle(0x7fc00001), 0.1f];
        NamedTensor[] tensors = [new("a.weight", [2, 3], matrix), new("b", [2], vector)];

        SafeTensors.Write(_path, tensors, new Dictionary<string, string> { ["format"] = "pt", ["tokenizer"] = "gpt2" });

        byte[] bytes = File.ReadAllBytes(_path);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, headerLength % 8);
        JsonObject header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLength).TrimEnd(' '))!.AsObject();
        Assert.Equal("""{"format":"pt","tokenizer":"gpt2"}""", header["__metadata__"]!.ToJsonString());
        Assert.Equal("""{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}""", header["a.weight"]!.ToJsonString());
        Assert.Equal("""{"dtype":"F32","shape":[2],"data_offsets":[24,32]}""", header["b"]!.ToJsonString());
        Assert.Equal(8 + (int)headerLength + 32, bytes.Length);
        int data = 8 + (int)headerLength;
        Assert.Equal(BitConverter.SingleToInt32Bits(-3.25f), BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(data + 20)));
        Assert.Equal(0x7fc00001, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(data + 24)));

        (IReadOnlyList<NamedTensor> read, IReadOnlyDictionary<string, string> metadata) = SafeTensors.Read(_path);
        Assert.Equal(["a.weight", "b"], read.Select(t => t.Name));
        Assert.Equal([2L, 3L], read[0].Shape);
        Assert.Equal(matrix.Select(BitConverter.SingleToInt32Bits), read[0].Values.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(vector.Select(BitConverter.SingleToInt32Bits), read[1].Values.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal("gpt2", metadata["tokenizer"]);
    }

    [Fact]
    public void Read_OffsetsBeyondTheFile_AreRefusedWithTheTensorNamed()
    {
        SafeTensors.Write(_path, [new NamedTensor("w", [4], [1, 2, 3, 4])], new Dictionary<string, string>());
        byte[] bytes = File.ReadAllBytes(_path);
        File.WriteAllBytes(_path, bytes[..^4]);

        var refused = Assert.Throws<InvalidDataException>(() => SafeTensors.Read(_path));
        Assert.Contains("tensor w's offsets [0, 16)", refused.Message);
    }

    [Fact]
    public void Transposed_SwapsRowsAndColumns()
    {
        var tensor = new NamedTensor("t", [2, 3], [1, 2, 3, 4, 5, 6]);

        NamedTensor transposed = tensor.Transposed();

        Assert.Equal([3L, 2L], transposed.Shape);
        Assert.Equal([1f, 4, 2, 5, 3, 6], transposed.Values);
        Assert.Equal(tensor.Values, transposed.Transposed().Values);
    }

    public void Dispose() => File.Delete(_path);
}
