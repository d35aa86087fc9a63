using System.Buffers.Binary;
using System.Security.Cryptography;
using DesLoc.Trainer.Data;

namespace DesLoc.Trainer.Tests.Data;

/// <summary>Datasets for tests, in a temporary directory that is deleted with the object.</summary>
internal sealed class ShardDatasets : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("desloc-shards-").FullName;

    public string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>
    /// A dataset written directly (not by prepare) whose token at position p of each split is p + the split's offset
    /// (modulo the tokenizer's vocabulary), so with gpt2 every window shows where it was read; each split is cut into
    /// shards of <paramref name="shardTokens"/>.
    /// </summary>
    public string Positional(string name, int trainTokens, int validationTokens, int shardTokens, int validationOffset = 30000, string tokenizer = TokenizerNames.Gpt2)
    {
        string directory = PathOf(name);
        Directory.CreateDirectory(directory);
        int vocab = TokenizerNames.VocabOf(tokenizer);
        List<ShardFile> train = WriteSplit(directory, "train", [.. Enumerable.Range(0, trainTokens).Select(p => p % vocab)], shardTokens);
        List<ShardFile> validation = WriteSplit(directory, "validation", [.. Enumerable.Range(validationOffset, validationTokens).Select(p => p % vocab)], shardTokens);
        new ShardManifest(ShardManifest.CurrentFormat, tokenizer, vocab, ShardManifest.Uint16, new ShardSplits(train, validation))
            .Write(Path.Combine(directory, DataSpec.ManifestFile));
        return directory;
    }

    /// <summary>The tokens of a split, read back from its shards in order.</summary>
    public static int[] Tokens(string directory, IEnumerable<ShardFile> shards) =>
        [.. shards.SelectMany(shard =>
        {
            byte[] bytes = File.ReadAllBytes(Path.Combine(directory, shard.File));
            return Enumerable.Range(0, bytes.Length / 2).Select(i => (int)BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(i * 2)));
        })];

    public void Dispose() => Directory.Delete(Root, recursive: true);

    private static List<ShardFile> WriteSplit(string directory, string split, int[] tokens, int shardTokens)
    {
        List<ShardFile> shards = [];
        foreach (int[] chunk in tokens.Chunk(shardTokens))
        {
            byte[] bytes = new byte[chunk.Length * 2];
            for (int i = 0; i < chunk.Length; i++)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), checked((ushort)chunk[i]));
            }

            string file = $"{split}-{shards.Count:D6}.bin";
            File.WriteAllBytes(Path.Combine(directory, file), bytes);
            shards.Add(new ShardFile(file, chunk.Length, Convert.ToHexStringLower(SHA256.HashData(bytes))));
        }

        return shards;
    }
}
