using System.Security.Cryptography;
using System.Text.Json;
using DesLoc.Sync.State;

namespace DesLoc.Trainer.Checkpoints;

/// <summary>
/// One replica's checkpoints in a directory: <c>step-NNNNNNNNN.state</c> files and a <c>manifest.json</c> listing
/// each with its size and SHA-256. Writes are atomic (temp file, fsync, rename; the manifest likewise), the newest
/// <see cref="Keep"/> are kept, and a checkpoint whose size or checksum does not match is refused, so a reader falls
/// back to the previous one. With a spec, the store also holds <c>job.json</c> (the job spec the state belongs to), so
/// a checkpoint directory is self-describing: <c>desloc-trainer export</c> rebuilds the model from it alone.
/// </summary>
internal sealed class CheckpointStore(string directory, int keep, Action<string>? warn = null, JobSpec? spec = null)
{
    private const string ManifestName = "manifest.json";

    /// <summary>The job spec the checkpoints of a directory belong to (the contract's JSON).</summary>
    public const string SpecName = "job.json";
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public string Directory => directory;

    public int Keep => keep;

    public void Save(long step, StateBundle bundle)
    {
        System.IO.Directory.CreateDirectory(directory);
        if (spec is not null)
        {
            WriteAtomically(Path.Combine(directory, SpecName), System.Text.Encoding.UTF8.GetBytes(JobSpecJson.Serialize(spec)));
        }

        byte[] bytes = bundle.ToBytes();
        string file = $"step-{step:D9}.state";
        WriteAtomically(Path.Combine(directory, file), bytes);

        List<ManifestEntry> entries = [.. ReadManifest().Where(e => e.Step != step)];
        entries.Add(new ManifestEntry(step, file, bytes.LongLength, Convert.ToHexString(SHA256.HashData(bytes))));
        entries.Sort((a, b) => a.Step.CompareTo(b.Step));
        List<ManifestEntry> pruned = entries.Count > keep ? entries[..^keep] : [];
        entries = entries.Count > keep ? entries[^keep..] : entries;
        WriteAtomically(Path.Combine(directory, ManifestName), JsonSerializer.SerializeToUtf8Bytes(new Manifest(entries), s_json));
        foreach (ManifestEntry old in pruned)
        {
            File.Delete(Path.Combine(directory, old.File));
        }
    }

    /// <summary>The spec stored with the checkpoints, or null when they were written without one.</summary>
    public JobSpec? ReadSpec()
    {
        string path = Path.Combine(directory, SpecName);
        return File.Exists(path) ? JsonSerializer.Deserialize<JobSpec>(File.ReadAllBytes(path), JobSpecJson.Options) : null;
    }

    /// <summary>Steps of the checkpoints that verify (size and checksum), oldest first.</summary>
    public IReadOnlyList<long> ValidSteps() => [.. ReadManifest().Where(e => TryRead(e, out _)).Select(e => e.Step)];

    /// <summary>The checkpoint of <paramref name="step"/>; throws <see cref="InvalidDataException"/> when it is missing or corrupt.</summary>
    public StateBundle Load(long step)
    {
        ManifestEntry entry = ReadManifest().FirstOrDefault(e => e.Step == step)
            ?? throw new InvalidDataException($"No checkpoint of step {step} in {directory}.");
        return TryRead(entry, out StateBundle? bundle) ? bundle! : throw new InvalidDataException($"Checkpoint of step {step} in {directory} is corrupt.");
    }

    private bool TryRead(ManifestEntry entry, out StateBundle? bundle)
    {
        bundle = null;
        string path = Path.Combine(directory, entry.File);
        try
        {
            byte[] bytes = File.ReadAllBytes(path);
            if (bytes.LongLength != entry.Bytes || Convert.ToHexString(SHA256.HashData(bytes)) != entry.Sha256)
            {
                warn?.Invoke($"Checkpoint {path} is truncated or corrupt ({bytes.LongLength} bytes, expected {entry.Bytes}, checksum mismatch); refusing it.");
                return false;
            }

            bundle = StateBundle.FromBytes(bytes);
            return true;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            warn?.Invoke($"Checkpoint {path} cannot be read ({e.Message}); refusing it.");
            return false;
        }
    }

    private List<ManifestEntry> ReadManifest()
    {
        string path = Path.Combine(directory, ManifestName);
        if (!File.Exists(path))
        {
            return [];
        }

        try
        {
            return [.. JsonSerializer.Deserialize<Manifest>(File.ReadAllBytes(path), s_json)?.Checkpoints ?? []];
        }
        catch (JsonException e)
        {
            warn?.Invoke($"Checkpoint manifest {path} is corrupt ({e.Message}); ignoring every checkpoint it listed.");
            return [];
        }
    }

    private static void WriteAtomically(string path, byte[] bytes)
    {
        string temp = path + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(bytes);
            file.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    private sealed record Manifest(IReadOnlyList<ManifestEntry> Checkpoints);

    private sealed record ManifestEntry(long Step, string File, long Bytes, string Sha256);
}
