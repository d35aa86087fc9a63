using System.Diagnostics;
using System.Security.Cryptography;
using DesLoc.Trainer.Data;
using DesLoc.Trainer.Tokenization;

namespace DesLoc.Trainer.Preparation;

/// <summary>What <c>prepare</c> is asked to do.</summary>
/// <param name="Inputs">Files or directories of .txt, .jsonl and .parquet documents.</param>
/// <param name="Output">The dataset's directory: new, or empty.</param>
/// <param name="Tokenizer">One of <see cref="TokenizerNames"/>.</param>
/// <param name="TextField">The text's field in a JSON line or column in a Parquet file.</param>
/// <param name="Validation">The fraction of the token stream, from its end, held out for evaluation.</param>
/// <param name="ShardTokens">The most tokens a shard file holds.</param>
internal sealed record PrepareRequest(
    IReadOnlyList<string> Inputs,
    string Output,
    string Tokenizer = TokenizerNames.Gpt2,
    string TextField = "text",
    double Validation = PrepareRequest.DefaultValidation,
    long ShardTokens = PrepareRequest.DefaultShardTokens)
{
    /// <summary>nanoGPT's split: the last 10% of the tokens.</summary>
    public const double DefaultValidation = 0.1;

    /// <summary>100M tokens (200 MB) a shard, as llm.c's FineWeb shards.</summary>
    public const long DefaultShardTokens = 100_000_000;

    /// <summary>A shard of at most 2 GB, so the one cut at the split fits in an array.</summary>
    public const long MaxShardTokens = 1_000_000_000;
}

/// <summary>What <c>prepare</c> did, for its summary.</summary>
internal sealed record PrepareResult(ShardManifest Manifest, string ManifestPath, long Documents, long TextBytes, TimeSpan Elapsed)
{
    public long TrainTokens => Manifest.Splits.Train.Sum(s => s.Tokens);

    public long ValidationTokens => Manifest.Splits.Validation.Sum(s => s.Tokens);
}

/// <summary>Counters a progress display reads while <see cref="DatasetPreparer"/> runs.</summary>
internal sealed class PrepareProgress
{
    private long _documents;
    private long _tokens;
    private long _textBytes;

    public long Documents => Interlocked.Read(ref _documents);

    public long Tokens => Interlocked.Read(ref _tokens);

    public long TextBytes => Interlocked.Read(ref _textBytes);

    public void Add(long tokens, long textBytes)
    {
        Interlocked.Increment(ref _documents);
        Interlocked.Add(ref _tokens, tokens);
        Interlocked.Add(ref _textBytes, textBytes);
    }
}

/// <summary>
/// <c>desloc-trainer prepare</c>: tokenizes a corpus into uint16 token shards and a <c>manifest.json</c> that
/// <see cref="ShardSource"/> opens. GPT-2's <c>&lt;|endoftext|&gt;</c> follows every document, as nanoGPT's prepare
/// scripts put it; the last <see cref="PrepareRequest.Validation"/> of the token stream becomes the validation split.
/// The manifest is written last, so an interrupted run leaves no dataset that looks whole.
/// </summary>
internal static class DatasetPreparer
{
    public static async Task<PrepareResult> RunAsync(PrepareRequest request, PrepareProgress progress, CancellationToken cancellationToken)
    {
        ITextTokenizer tokenizer = Check(request);
        IReadOnlyList<string> files = Corpus.Files(request.Inputs);
        PrepareOutput(request.Output);

        var clock = Stopwatch.StartNew();
        List<int> ids = [];
        IReadOnlyList<ShardFile> parts;
        using (var writer = new ShardWriter(request.Output, "part", request.ShardTokens))
        {
            foreach (string file in files)
            {
                await foreach (string document in Corpus.DocumentsAsync(file, request.TextField, cancellationToken))
                {
                    ids.Clear();
                    tokenizer.Encode(document, ids);
                    if (tokenizer.EndOfText is { } endOfText)
                    {
                        ids.Add(endOfText);
                    }

                    writer.Append(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(ids));
                    progress.Add(ids.Count, System.Text.Encoding.UTF8.GetByteCount(document));
                }
            }

            parts = writer.Finish();
        }

        long total = parts.Sum(p => p.Tokens);
        if (total == 0)
        {
            throw new PrepareException($"--input: no text in {string.Join(", ", request.Inputs)}.");
        }

        long validationTokens = (long)Math.Ceiling(total * request.Validation);
        (List<ShardFile> train, List<ShardFile> validation) = Split(request.Output, parts, total - validationTokens);
        var manifest = new ShardManifest(ShardManifest.CurrentFormat, tokenizer.Name, tokenizer.Vocab, ShardManifest.Uint16, new ShardSplits(train, validation));
        string manifestPath = Path.Combine(request.Output, DataSpec.ManifestFile);
        string temporary = manifestPath + ".tmp";
        manifest.Write(temporary);
        File.Move(temporary, manifestPath, overwrite: true);
        return new PrepareResult(manifest, manifestPath, progress.Documents, progress.TextBytes, clock.Elapsed);
    }

    private static ITextTokenizer Check(PrepareRequest request)
    {
        if (!TokenizerNames.All.Contains(request.Tokenizer))
        {
            throw new PrepareException($"--tokenizer: '{request.Tokenizer}' is not one of {string.Join(", ", TokenizerNames.All)}.");
        }

        if (request.Validation is < 0 or >= 1 || double.IsNaN(request.Validation))
        {
            throw new PrepareException($"--validation: {request.Validation} is not a fraction in [0, 1).");
        }

        if (request.ShardTokens is < 1 or > PrepareRequest.MaxShardTokens)
        {
            throw new PrepareException($"--shard-tokens: {request.ShardTokens} is not between 1 and {PrepareRequest.MaxShardTokens:N0}.");
        }

        ITextTokenizer tokenizer = TextTokenizers.Create(request.Tokenizer);
        return tokenizer.Vocab <= ShardManifest.MaxVocab ? tokenizer
            : throw new PrepareException($"--tokenizer: {tokenizer.Name} has {tokenizer.Vocab} tokens, more than a uint16 shard holds ({ShardManifest.MaxVocab}).");
    }

    private static void PrepareOutput(string output)
    {
        if (File.Exists(output) || (Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any()))
        {
            throw new PrepareException($"--output: '{output}' is not an empty directory; give a new one, or delete it to prepare again.");
        }

        Directory.CreateDirectory(output);
    }

    /// <summary>
    /// Renames the written parts into train-N.bin and validation-N.bin at token <paramref name="trainTokens"/>; the one
    /// part that holds the boundary is cut in two (and both halves hashed), the others keep their hashes.
    /// </summary>
    private static (List<ShardFile> Train, List<ShardFile> Validation) Split(string directory, IReadOnlyList<ShardFile> parts, long trainTokens)
    {
        List<ShardFile> train = [];
        List<ShardFile> validation = [];
        long start = 0;
        foreach (ShardFile part in parts)
        {
            string path = Path.Combine(directory, part.File);
            long inTrain = Math.Clamp(trainTokens - start, 0, part.Tokens);
            if (inTrain == part.Tokens || inTrain == 0)
            {
                List<ShardFile> split = inTrain == 0 ? validation : train;
                string name = Name(inTrain == 0 ? "validation" : "train", split.Count);
                File.Move(path, Path.Combine(directory, name));
                split.Add(part with { File = name });
            }
            else
            {
                byte[] bytes = File.ReadAllBytes(path);
                int cut = checked((int)(inTrain * ShardManifest.BytesPerToken));
                train.Add(WriteShard(directory, Name("train", train.Count), bytes.AsSpan(0, cut)));
                validation.Add(WriteShard(directory, Name("validation", validation.Count), bytes.AsSpan(cut)));
                File.Delete(path);
            }

            start += part.Tokens;
        }

        return (train, validation);
    }

    private static string Name(string split, int index) => $"{split}-{index:D6}.bin";

    private static ShardFile WriteShard(string directory, string name, ReadOnlySpan<byte> bytes)
    {
        using (var file = new FileStream(Path.Combine(directory, name), FileMode.CreateNew, FileAccess.Write))
        {
            file.Write(bytes);
        }

        return new ShardFile(name, bytes.Length / ShardManifest.BytesPerToken, Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }
}
