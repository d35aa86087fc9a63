using DesLoc.Trainer.Preparation;

namespace DesLoc.Bench;

/// <summary>
/// Tiny Shakespeare from ../shared/data, prepared as byte shards in a temporary directory that disposing removes: the
/// real text every training benchmark reads.
/// </summary>
internal sealed class TinyShakespeare : IDisposable
{
    private readonly string _directory;

    private TinyShakespeare(string directory, PrepareResult prepared)
    {
        _directory = directory;
        Prepared = prepared;
    }

    public PrepareResult Prepared { get; }

    /// <summary>The prepared dataset's directory, for <c>data.shards</c>.</summary>
    public string Shards => Path.GetDirectoryName(Prepared.ManifestPath)!;

    public static async Task<TinyShakespeare> PrepareBytesAsync()
    {
        string corpus = Path.GetFullPath(Path.Combine("..", "shared", "data", "tinyshakespeare.txt"));
        if (!File.Exists(corpus))
        {
            throw new FileNotFoundException($"tiny Shakespeare is read from {corpus} (../shared/data beside the repository); get it from the char-rnn or nanoGPT repositories.");
        }

        string directory = Directory.CreateTempSubdirectory("desloc-shakespeare-").FullName;
        PrepareResult prepared = await DatasetPreparer.RunAsync(
            new PrepareRequest([corpus], Path.Combine(directory, "bytes"), TokenizerNames.Bytes), new PrepareProgress(), CancellationToken.None);
        return new TinyShakespeare(directory, prepared);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
