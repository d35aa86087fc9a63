using System.Diagnostics;
using DesLoc.Sync.Accounting;
using DesLoc.Trainer.Configuration;
using DesLoc.Trainer.Data;
using DesLoc.Transport.Collectives;
using static TorchSharp.torch;

namespace DesLoc.Trainer.Training;

/// <summary>
/// N replicas of a job in this process, each on its own task, meeting in an <see cref="InMemoryCollectiveGroup"/>.
/// If one replica fails, the group is aborted so no other replica waits forever at a rendezvous.
/// </summary>
internal sealed class InProcessJob : IDisposable
{
    private readonly JobSpec _spec;
    private readonly InMemoryCollectiveGroup _group;
    private readonly ReplicaTrainer[] _replicas;
    private readonly ITokenSource _data;

    public InProcessJob(JobSpec spec, Device? device = null, StrategyFactory? strategyFactory = null)
    {
        Preflight.ThrowIfInvalid(spec);

        _spec = spec;
        _data = TokenSources.Create(spec);
        _group = new InMemoryCollectiveGroup(spec.Replicas);
        Device target = device ?? Devices.Preferred();
        _replicas = new ReplicaTrainer[spec.Replicas];
        for (int rank = 0; rank < spec.Replicas; rank++)
        {
            // The same seed before each model: every replica starts from the same parameters, as DiLoCo requires.
            random.manual_seed(spec.Training.Seed);
            _replicas[rank] = new ReplicaTrainer(spec, _data, _group[rank], target, strategyFactory);
        }
    }

    public IReadOnlyList<ReplicaTrainer> Replicas => _replicas;


    public async Task<JobResult> RunAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        Task[] running = _replicas.Select(replica => Task.Run(() => RunReplicaAsync(replica, cancellationToken), cancellationToken)).ToArray();
        await Task.WhenAll(running);
        clock.Stop();

        double[] evalLosses = _replicas.Select(r => r.Evaluate()).ToArray();
        return new JobResult(
            _spec,
            _replicas[0].ParameterCount,
            evalLosses,
            _replicas.Select(r => r.Ledger.Snapshot()).ToArray(),
            clock.Elapsed,
            _data.EntropyFloor);
    }

    public void Dispose()
    {
        foreach (ReplicaTrainer replica in _replicas)
        {
            replica.Dispose();
        }
    }

    private async Task RunReplicaAsync(ReplicaTrainer replica, CancellationToken cancellationToken)
    {
        try
        {
            await replica.RunAsync(cancellationToken);
        }
        catch (Exception failure) when (failure is not CollectiveAbortedException)
        {
            _group.Abort(failure);
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
    double? EntropyFloor)
{
    public double MeanEvalLoss => EvalLosses.Average();

    public double StepsPerSecond => Spec.Training.Steps / WallTime.TotalSeconds;

    public long TokensPerStep => (long)Spec.Replicas * Spec.Training.BatchSize * Spec.Model.Context;
}
