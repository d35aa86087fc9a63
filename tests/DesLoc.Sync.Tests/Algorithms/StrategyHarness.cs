using DesLoc.Sync.Accounting;
using DesLoc.Sync.Algorithms;
using DesLoc.Sync.Math;
using DesLoc.Transport.Collectives;

namespace DesLoc.Sync.Tests.Algorithms;

/// <summary>
/// Drives W strategies over array replicas exactly as the trainer's loop does, with a fake "optimizer"
/// (params -= 0.01·grad, moments from the gradient) and per-rank pseudo-random gradients.
/// </summary>
internal static class StrategyHarness
{
    public static Task<(ISyncStrategy[] Strategies, ArrayReplica[] Replicas)> RunAsync(
        AlgorithmSpec spec, int world, int parameterCount, int steps, ulong seed = 1, WireCompression? compression = null, int? overlapSteps = null) =>
        RunAsync(spec, world, [[parameterCount]], steps, seed, compression, overlapSteps);

    /// <summary>The same over parameters that are tensors of <paramref name="shapes"/> (what DCT momentum's blocks follow).</summary>
    public static async Task<(ISyncStrategy[] Strategies, ArrayReplica[] Replicas)> RunAsync(
        AlgorithmSpec spec, int world, IReadOnlyList<long[]> shapes, int steps, ulong seed = 1, WireCompression? compression = null, int? overlapSteps = null)
    {
        var group = new InMemoryCollectiveGroup(world, compression);
        var strategies = Enumerable.Range(0, world).Select(r => SyncStrategies.Create(spec, group[r], shapes, seed, overlapSteps)).ToArray();
        return (strategies, await DriveAsync(strategies, checked((int)TensorBlockLayout.ElementCount(shapes)), steps, rank => rank));
    }

    /// <summary>
    /// The same run with <paramref name="replicas"/> replicas of <paramref name="workers"/> workers each, exchanging through
    /// <see cref="ShardedCollective"/>s; strategies and array replicas come back replica-major. A replica's workers draw its
    /// gradients alike, as the fast tier's average leaves them, so each worker should end as the unsharded replica does.
    /// </summary>
    public static async Task<(ISyncStrategy[] Strategies, ArrayReplica[] Workers)> RunShardedAsync(
        AlgorithmSpec spec, int replicas, int workers, int parameterCount, int steps, ulong seed = 1, WireCompression? compression = null)
    {
        InMemoryCollectiveGroup[] shards = [.. Enumerable.Range(0, workers).Select(_ => new InMemoryCollectiveGroup(replicas, compression))];
        InMemoryCollectiveGroup[] fastTiers = [.. Enumerable.Range(0, replicas).Select(_ => new InMemoryCollectiveGroup(workers))];
        ISyncStrategy[] strategies = [.. Enumerable.Range(0, replicas * workers).Select(g =>
        {
            (int replica, int worker) = (g / workers, g % workers);
            var collective = new ShardedCollective(replica, worker, shards[worker][replica], fastTiers[replica][worker], r => r);
            return SyncStrategies.Create(spec, collective, parameterCount, seed);
        })];
        return (strategies, await DriveAsync(strategies, parameterCount, steps, g => g / workers));
    }

    private static async Task<ArrayReplica[]> DriveAsync(ISyncStrategy[] strategies, int parameterCount, int steps, Func<int, int> replicaOf)
    {
        var replicas = strategies.Select(_ => new ArrayReplica(parameterCount)).ToArray();

        async Task RunReplica(int rank)
        {
            var random = new Random(replicaOf(rank) + 1);
            ArrayReplica replica = replicas[rank];
            ISyncStrategy strategy = strategies[rank];
            strategy.Initialize(replica);
            for (long step = 1; step <= steps; step++)
            {
                StepPlan plan = strategy.Plan(step);
                if (plan.TakesGradientStep)
                {
                    float[] grads = replica[StateKind.Grads];
                    for (int i = 0; i < grads.Length; i++)
                    {
                        grads[i] = (float)(random.NextDouble() - 0.5);
                    }

                    await strategy.AfterBackwardAsync(step, replica, default);
                    for (int i = 0; i < grads.Length; i++)
                    {
                        replica[StateKind.Params][i] -= 0.01f * (float)plan.LearningRateScale * grads[i];
                        replica[StateKind.M1][i] = 0.9f * replica[StateKind.M1][i] + 0.1f * grads[i];
                        replica[StateKind.M2][i] = 0.99f * replica[StateKind.M2][i] + 0.01f * grads[i] * grads[i];
                    }
                }
                else
                {
                    strategy.PseudoSync(step, 0.01, replica);
                }

                await strategy.AfterStepAsync(step, replica, default);
            }

            // As the trainer does at the last step: a sync still in flight lands there.
            await strategy.LandAsync(replica, default);
        }

        await Task.WhenAll(Enumerable.Range(0, strategies.Length).Select(r => Task.Run(() => RunReplica(r)))).WaitAsync(TimeSpan.FromSeconds(60));
        return replicas;
    }
}
