using System.IO.MemoryMappedFiles;
using System.Security.Cryptography;
using DesLoc.Trainer.Configuration;

namespace DesLoc.Trainer.Data;

/// <summary>
/// A prepared dataset's token shards, memory-mapped. The training split, read as one sequence, is cut into one
/// contiguous region per replica; row k of a replica's stream (batch index·B + row, B the replica's batch) is the k-th
/// window of context + 1 tokens through its region, windows laid side by side at stride context and wrapping at the
/// region's end (an epoch). So replicas and the workers of a replica read disjoint windows, and what a replica reads
/// is a pure function of (rank, batch index): the batch index is the whole data position. Evaluation reads the
/// validation split's windows in order.
/// </summary>
internal sealed class ShardSource : ITokenSource
{
    private readonly MappedTokens _train;
    private readonly MappedTokens _validation;
    private readonly int _replicaBatch;
    private readonly int _context;

    private ShardSource(MappedTokens train, MappedTokens validation, int vocab, int replicas, int replicaBatch, int context)
    {
        _train = train;
        _validation = validation;
        Vocab = vocab;
        _replicaBatch = replicaBatch;
        _context = context;
        RegionTokens = train.Length / replicas;
        RegionWindows = Windows(RegionTokens, context);
        ValidationWindows = Windows(validation.Length, context);
    }

    public int Vocab { get; }

    public double? EntropyFloor => null;

    /// <summary>Tokens of the training split each replica reads (the split's remainder after R regions is unread).</summary>
    public long RegionTokens { get; }

    /// <summary>Windows in a replica's region: one epoch of the replica is this many rows.</summary>
    public long RegionWindows { get; }

    public long ValidationWindows { get; }

    /// <summary>
    /// Opens the dataset in <paramref name="directory"/> after checking everything that would otherwise fail (or
    /// silently train on the wrong tokens) later: the manifest, its tokenizer against <paramref name="tokenizer"/>, its
    /// vocabulary against the model's, every shard's size and SHA-256, and that each replica's region and the held-out
    /// split (when <paramref name="evaluates"/>) hold a window. Problems are refused naming the file and the field.
    /// </summary>
    public static ShardSource Open(string directory, string tokenizer, int modelVocab, int replicas, int replicaBatch, int context, bool evaluates)
    {
        string manifestPath = Path.Combine(directory, DataSpec.ManifestFile);
        if (!File.Exists(manifestPath))
        {
            throw new ConfigurationException($"spec.data.shards: no {DataSpec.ManifestFile} in '{directory}'; give the directory that desloc-trainer prepare --output wrote.");
        }

        ShardManifest manifest = ShardManifest.Read(manifestPath);
        if (manifest.Tokenizer != tokenizer)
        {
            throw new ConfigurationException(
                $"spec.data.tokenizer is '{tokenizer}', but '{manifestPath}' says its shards were encoded with '{manifest.Tokenizer}'; " +
                $"set spec.data.tokenizer to {manifest.Tokenizer}, or prepare the data again with --tokenizer {tokenizer}.");
        }

        if (manifest.Vocab > modelVocab)
        {
            throw new ConfigurationException($"spec.model.vocab ({modelVocab}) is smaller than the vocabulary of '{manifestPath}' ({manifest.Vocab}); raise it or leave it out.");
        }

        foreach (ShardFile shard in manifest.Splits.Train.Concat(manifest.Splits.Validation))
        {
            Verify(Path.Combine(directory, shard.File), shard, manifestPath);
        }

        var train = new MappedTokens(directory, manifest.Splits.Train);
        var validation = new MappedTokens(directory, manifest.Splits.Validation);
        var source = new ShardSource(train, validation, manifest.Vocab, replicas, replicaBatch, context);
        if (source.RegionWindows < 1)
        {
            source.Dispose();
            throw new ConfigurationException(
                $"spec.data.shards: the training split of '{manifestPath}' has {train.Length:N0} tokens, too few for {replicas} replicas with model.context {context} " +
                $"(each replica needs at least {context + 1:N0}); use more data, fewer replicas or a shorter context.");
        }

        if (evaluates && source.ValidationWindows < 1)
        {
            source.Dispose();
            throw new ConfigurationException(
                $"spec.training.evalBatches: the validation split of '{manifestPath}' has {validation.Length:N0} tokens, fewer than model.context + 1 ({context + 1:N0}); " +
                "prepare the data with a larger --validation, or set evalBatches to 0.");
        }

        return source;
    }

    /// <summary>Where in the training split row <paramref name="row"/> of replica <paramref name="rank"/>'s batch <paramref name="index"/> starts.</summary>
    public long TrainWindowStart(int rank, long index, int row) =>
        (rank * RegionTokens) + ((index * _replicaBatch + row) % RegionWindows * _context);

    public void TrainBatch(int rank, long index, int firstRow, Span<long> inputs, Span<long> targets)
    {
        ushort[] window = new ushort[_context + 1];
        int rows = inputs.Length / _context;
        for (int row = 0; row < rows; row++)
        {
            _train.Read(TrainWindowStart(rank, index, firstRow + row), window);
            Spread(window, row, inputs, targets);
        }
    }

    public void EvalBatch(long index, Span<long> inputs, Span<long> targets)
    {
        ushort[] window = new ushort[_context + 1];
        int rows = inputs.Length / _context;
        for (int row = 0; row < rows; row++)
        {
            _validation.Read((index * rows + row) % ValidationWindows * _context, window);
            Spread(window, row, inputs, targets);
        }
    }

    public void Dispose()
    {
        _train.Dispose();
        _validation.Dispose();
    }

    /// <summary>Windows of context + 1 tokens at stride context that fit in <paramref name="tokens"/>.</summary>
    private static long Windows(long tokens, int context) => tokens < context + 1 ? 0 : (tokens - 1) / context;

    private void Spread(ushort[] window, int row, Span<long> inputs, Span<long> targets)
    {
        for (int i = 0; i < _context; i++)
        {
            inputs[row * _context + i] = window[i];
            targets[row * _context + i] = window[i + 1];
        }
    }

    private static void Verify(string path, ShardFile shard, string manifestPath)
    {
        var file = new FileInfo(path);
        if (!file.Exists)
        {
            throw new ConfigurationException($"spec.data.shards: shard '{path}' listed in '{manifestPath}' is missing.");
        }

        if (file.Length != shard.Tokens * ShardManifest.BytesPerToken)
        {
            throw new ConfigurationException(
                $"spec.data.shards: shard '{path}' has {file.Length:N0} bytes; '{manifestPath}' lists {shard.Tokens:N0} tokens ({shard.Tokens * ShardManifest.BytesPerToken:N0} bytes). Prepare the data again.");
        }

        using FileStream stream = file.OpenRead();
        string sha256 = Convert.ToHexStringLower(SHA256.HashData(stream));
        if (!string.Equals(sha256, shard.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new ConfigurationException($"spec.data.shards: shard '{path}' is corrupt: its SHA-256 is {sha256}, '{manifestPath}' says {shard.Sha256}. Prepare the data again.");
        }
    }

    /// <summary>A split's shards, memory-mapped, read as one sequence of tokens.</summary>
    private sealed class MappedTokens : IDisposable
    {
        private readonly List<(long Start, long Tokens, MemoryMappedFile File, MemoryMappedViewAccessor View)> _shards = [];

        public MappedTokens(string directory, IReadOnlyList<ShardFile> shards)
        {
            // An empty file cannot be mapped, and holds nothing to read.
            foreach (ShardFile shard in shards.Where(s => s.Tokens > 0))
            {
                var file = MemoryMappedFile.CreateFromFile(Path.Combine(directory, shard.File), FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
                _shards.Add((Length, shard.Tokens, file, file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read)));
                Length += shard.Tokens;
            }
        }

        public long Length { get; }

        /// <summary>Fills <paramref name="destination"/> with the tokens from <paramref name="start"/> on, across shard ends.</summary>
        public void Read(long start, Span<ushort> destination)
        {
            int shard = _shards.FindLastIndex(s => s.Start <= start);
            int written = 0;
            while (written < destination.Length)
            {
                (long shardStart, long tokens, _, MemoryMappedViewAccessor view) = _shards[shard];
                long offset = start + written - shardStart;
                int count = (int)Math.Min(destination.Length - written, tokens - offset);
                Span<ushort> part = destination.Slice(written, count);
                view.SafeMemoryMappedViewHandle.ReadSpan((ulong)(offset * ShardManifest.BytesPerToken), part);
                written += count;
                shard++;
            }

            if (!BitConverter.IsLittleEndian)
            {
                System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(destination, destination);
            }
        }

        public void Dispose()
        {
            foreach ((_, _, MemoryMappedFile file, MemoryMappedViewAccessor view) in _shards)
            {
                view.Dispose();
                file.Dispose();
            }
        }
    }
}
