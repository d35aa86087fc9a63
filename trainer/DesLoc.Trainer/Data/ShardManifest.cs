using System.Text.Json;
using System.Text.Json.Serialization;
using DesLoc.Trainer.Configuration;

namespace DesLoc.Trainer.Data;

/// <summary>
/// A prepared dataset's <c>manifest.json</c>: the tokenizer its shards were encoded with, and per split the shards in
/// stream order, each with its token count and SHA-256. A shard is raw little-endian uint16 token ids, as nanoGPT's
/// <c>.bin</c> files, so it can be memory-mapped and read at any offset.
/// </summary>
internal sealed record ShardManifest(int FormatVersion, string Tokenizer, int Vocab, string Dtype, ShardSplits Splits)
{
    public const int CurrentFormat = 1;

    public const string Uint16 = "uint16";

    public const int BytesPerToken = sizeof(ushort);

    /// <summary>The most ids a uint16 shard can hold: a tokenizer with a larger vocabulary cannot be written.</summary>
    public const int MaxVocab = ushort.MaxValue + 1;

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    public void Write(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, s_json) + Environment.NewLine);

    /// <summary>Reads and checks the form of <paramref name="path"/>; what is wrong is refused, naming the file.</summary>
    public static ShardManifest Read(string path)
    {
        ShardManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<ShardManifest>(File.ReadAllText(path), s_json);
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException($"spec.data.shards: cannot read '{path}': {e.Message}");
        }

        string? problem = manifest switch
        {
            null => "it is empty",
            { FormatVersion: not CurrentFormat } => $"formatVersion {manifest.FormatVersion} is not {CurrentFormat}; prepare the dataset again with this trainer",
            { Dtype: not Uint16 } => $"dtype '{manifest.Dtype}' is not {Uint16}",
            { Tokenizer: null } or { Splits: null } or { Splits.Train: null } or { Splits.Validation: null } => "it lacks tokenizer or splits.train/validation",
            _ when manifest.Splits.Train.Concat(manifest.Splits.Validation).FirstOrDefault(IsMalformed) is { } shard =>
                $"shard entry '{shard.File}' needs a plain file name, a token count of at least 0 and a SHA-256",
            _ => null,
        };
        return problem is null ? manifest! : throw new ConfigurationException($"spec.data.shards: '{path}' is not a dataset manifest: {problem}.");
    }

    private static bool IsMalformed(ShardFile shard) =>
        string.IsNullOrEmpty(shard.File) || System.IO.Path.GetFileName(shard.File) != shard.File || shard.Tokens < 0 || string.IsNullOrEmpty(shard.Sha256);
}

/// <summary>The training split and the held-out split (the last part of the token stream).</summary>
internal sealed record ShardSplits(IReadOnlyList<ShardFile> Train, IReadOnlyList<ShardFile> Validation);

/// <summary>One shard: its file name in the dataset's directory, its tokens and the lower-case hex SHA-256 of its bytes.</summary>
internal sealed record ShardFile(string File, long Tokens, string Sha256);
