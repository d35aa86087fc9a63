using System.Diagnostics;
using DesLoc.Contract.Wire;
using DesLoc.Sync.Accounting;
using DesLoc.Trainer.Configuration;
using DesLoc.Trainer.Data;
using DesLoc.Trainer.Export;
using DesLoc.Transport.Collectives;
using static TorchSharp.torch;

namespace DesLoc.Trainer.Training;

/// <summary>
/// A job's R × W workers in this process, each on its own task, meeting in <see cref="InMemoryCollectiveGroup"/>s:
/// with one worker per replica, one group of the replicas; with W, a fast-tier group per replica and a slow-tier group
/// per shard, joined by a <see cref="ShardedCollective"/> (DESIGN.md §6). If one worker fails, every group is aborted
/// so no other worker waits forever at a rendezvous.
/// </summary>
internal sealed class InProcessJob : IDisposable
{
    private readonly JobSpec _spec;
    private readonly InMemoryCollectiveGroup[] _groups;
    private readonly ReplicaTrainer[] _replicas;
    private readonly ITokenSource _data;

    public InProcessJob(JobSpec spec, Device? device = null, StrategyFactory? strategyFactory = null)
    {
        Preflight.ThrowIfInvalid(spec);
        Preflight.ThrowIfTooLarge(spec, spec.Replicas * spec.WorkersPerReplica);

        _spec = spec;
        _data = TokenSources.Create(spec);
        Device target = device ?? Devices.Preferred();
        var topology = new JobTopology(spec.Replicas, spec.WorkersPerReplica);
        // Between replicas float state travels as sync.compression says; the fast tier inside a replica stays float32.
        WireCompression interCompression = WireCompression.For(spec.EffectiveSyncCompression);
        InMemoryCollectiveGroup[] shards = [.. Enumerable.Range(0, topology.WorkersPerReplica).Select(_ => new InMemoryCollectiveGroup(topology.Replicas, interCompression))];
        InMemoryCollectiveGroup[] fastTiers = topology.WorkersPerReplica == 1
            ? []
            : [.. Enumerable.Range(0, topology.Replicas).Select(_ => new InMemoryCollectiveGroup(topology.WorkersPerReplica))];
        _groups = [.. shards, .. fastTiers];
        _replicas = new ReplicaTrainer[topology.Workers];
        for (int rank = 0; rank < topology.Workers; rank++)
        {
            (int replica, int worker) = (topology.ReplicaOf(rank), topology.WorkerOf(rank));
            // The same seed before each model: every worker starts from the same parameters, as DiLoCo requires.
            random.manual_seed(spec.Training.Seed);
            _replicas[rank] = fastTiers.Length == 0
                ? new ReplicaTrainer(spec, _data, shards[0][replica], target, strategyFactory)
                : new ReplicaTrainer(spec, _data, new ShardedCollective(replica, worker, shards[worker][replica], fastTiers[replica][worker], r => r),
                    target, strategyFactory, new WorkerPlace(worker, fastTiers[replica][worker]));
        }
    }

    /// <summary>Every worker of the job, replica-major; with one worker per replica, the replicas.</summary>
    public IReadOnlyList<ReplicaTrainer> Replicas => _replicas;


    public async Task<JobResult> RunAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        Task[] running = _replicas.Select(replica => Task.Run(() => RunReplicaAsync(replica, cancellationToken), cancellationToken)).ToArray();
        await Task.WhenAll(running);
        clock.Stop();

        double[] evalLosses = _replicas.Select(r => r.EvaluateAt(r.Step).Loss).ToArray();
        // Worker 0 of replica 0 holds the job's model as rank 0 of a distributed job would export it.
        string? exported = _spec.Checkpoint.Path is { } root ? ModelExport.Write(_replicas[0].NamedWeights(), _spec, ModelExport.DirectoryUnder(root)) : null;
        return new JobResult(
            _spec,
            _replicas[0].ParameterCount,
            evalLosses,
            _replicas.Select(r => r.Ledger.Snapshot()).ToArray(),
            clock.Elapsed,
            _data.EntropyFloor,
            exported);
    }

    public void Dispose()
    {
        foreach (ReplicaTrainer replica in _replicas)
        {
            replica.Dispose();
        }

        _data.Dispose();
    }

    private async Task RunReplicaAsync(ReplicaTrainer replica, CancellationToken cancellationToken)
    {
        try
        {
            await replica.RunAsync(cancellationToken);
        }
        catch (Exception failure) when (failure is not CollectiveAbortedException)
        {
            foreach (InMemoryCollectiveGroup group in _groups)
            {
                group.Abort(failure);
            }

            throw;
        }
    }
}

/// <summary>What a finished job measured.</summary>
public sealed record JobResult(
    JobSpec Spec,
    int ParameterCount,
    IReadOnlyList<double> EvalLosses,
    IReadOnlyList<LedgerSnapshot> Ledgers,
    TimeSpan WallTime,
    double? EntropyFloor,
    string? ExportDirectory = null)
{
    public double MeanEvalLoss => EvalLosses.Average();

    public double MeanEvalPerplexity => Math.Exp(MeanEvalLoss);

    public double StepsPerSecond => Spec.Training.Steps / WallTime.TotalSeconds;

    public long TokensPerStep => (long)Spec.Replicas * Spec.WorkersPerReplica * Spec.Training.BatchSize * Spec.Model.Context;

    /// <summary>The job's reduction vs flat DDP over all its workers (<see cref="LedgerSnapshot.JobReductionVsDdp"/>).</summary>
    public double ReductionVsDdp => LedgerSnapshot.JobReductionVsDdp(Ledgers);
}
