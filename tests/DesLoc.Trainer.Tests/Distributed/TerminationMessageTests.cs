using DesLoc.Trainer.Tests.Data;

namespace DesLoc.Trainer.Tests.Distributed;

/// <summary>
/// A replica that cannot train says why where the kubelet copies it into the pod's status (the termination-message
/// path), so the operator's status and Events and `run`'s summary carry the reason, not only a log file.
/// </summary>
public sealed class TerminationMessageTests
{
    [Fact]
    public async Task MissingDataFile_ExitsWithTheConfigurationErrorCode_AndWritesTheFieldToFix()
    {
        using var cluster = new ReplicaCluster(new JobSpec { Replicas = 1, Data = new DataSpec { Path = "/nonexistent/book.txt" } });

        cluster.Start(0);
        int[] codes = await cluster.WaitForAllAsync(TimeSpan.FromSeconds(60));

        Assert.Equal([2], codes);
        Assert.Contains("spec.data.path: no file at '/nonexistent/book.txt'", cluster.TerminationMessage(0));
    }

    [Fact]
    public async Task DataFileTooSmall_FoundWhileStarting_IsReportedTheSameWay()
    {
        string book = Path.GetTempFileName();
        await File.WriteAllTextAsync(book, "too short");
        try
        {
            using var cluster = new ReplicaCluster(new JobSpec { Replicas = 1, Data = new DataSpec { Path = book } });

            cluster.Start(0);
            int[] codes = await cluster.WaitForAllAsync(TimeSpan.FromSeconds(60));

            Assert.Equal([2], codes);
            Assert.Contains("spec.data.path:", cluster.TerminationMessage(0));
            Assert.Contains("has 9 bytes", cluster.TerminationMessage(0));
        }
        finally
        {
            File.Delete(book);
        }
    }

    [Fact]
    public async Task CorruptShard_FoundAsTheDataOpens_IsReportedTheSameWay_NamingTheShard()
    {
        using var datasets = new ShardDatasets();
        string directory = datasets.Positional("d", trainTokens: 4000, validationTokens: 400, shardTokens: 1000, tokenizer: TokenizerNames.Bytes);
        string shard = Path.Combine(directory, "train-000002.bin");
        byte[] bytes = await File.ReadAllBytesAsync(shard);
        bytes[10] ^= 0x01;
        await File.WriteAllBytesAsync(shard, bytes);
        using var cluster = new ReplicaCluster(new JobSpec { Replicas = 1, Data = new DataSpec { Shards = directory, Tokenizer = TokenizerNames.Bytes } });

        cluster.Start(0);
        int[] codes = await cluster.WaitForAllAsync(TimeSpan.FromSeconds(60));

        Assert.Equal([2], codes);
        Assert.Contains($"spec.data.shards: shard '{shard}' is corrupt", cluster.TerminationMessage(0));
    }
}
