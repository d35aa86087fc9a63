using DesLoc.Contract.Wire;
using DesLoc.Transport.Protocol;

namespace DesLoc.Transport.Membership;

/// <summary>
/// Decides who takes part in each sync round (torchft's Lighthouse, run by rank 0). Replicas arrive at a sync
/// point and wait; a quorum forms once every expected member has arrived or is found dead (its ping fails, or
/// it misses the arrival timeout), and at least <c>minReplicas</c> are present. Members at the newest
/// (step, phase) keep their state; anyone behind, and every joiner, heals from the lowest such member. When
/// only joiners arrive (every replica restarted), they resume from the newest checkpoint step they all hold.
/// After the round, members vote; it commits only if every member voted ok, so nobody keeps a round that
/// another member abandoned. Members are workers; with several workers per replica, a quorum takes whole replicas
/// only (every shard of an exchange must be there), and the workers of a replica still missing one keep waiting.
/// Workers whose fast tier failed mid-step arrive at the start of that step (<see cref="StepStart"/>): once their
/// replica is whole again (its replacement joined), they regroup in a quorum of that replica alone, at once, where the
/// replacement heals from a sibling; the other replicas are not waited for.
/// </summary>
public sealed class QuorumCoordinator : IDisposable
{
    private readonly Lock _gate = new();
    private readonly int _minReplicas;
    private readonly JobTopology _topology;
    private readonly Func<int, CancellationToken, Task<bool>> _isAlive;
    private readonly TimeProvider _time;
    private readonly CoordinatorOptions _options;
    private readonly Dictionary<int, Arrival> _arrivals = [];
    private readonly HashSet<int> _expected;
    private readonly Dictionary<ulong, Vote> _votes = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private PeriodChange? _proposedPeriods;
    private long _generation;
    private DateTimeOffset _firstArrival;
    private bool _started;
    private ulong _lastQuorumId;

    /// <summary>The phase of a worker waiting at the start of a step to regroup with its replica (before any exchange of it).</summary>
    public const int StepStart = 0;

    public QuorumCoordinator(int worldSize, int minReplicas, Func<int, CancellationToken, Task<bool>> isAlive, TimeProvider time, CoordinatorOptions options)
        : this(new JobTopology(worldSize, 1), minReplicas, isAlive, time, options)
    {
    }

    /// <param name="topology">The job's replicas and workers: members are its workers' global ranks.</param>
    /// <param name="minReplicas">Whole replicas a quorum needs.</param>
    /// <param name="isAlive">Pings a worker by global rank.</param>
    /// <param name="time">The clock for timeouts.</param>
    /// <param name="options">Timeouts and probe interval.</param>
    public QuorumCoordinator(JobTopology topology, int minReplicas, Func<int, CancellationToken, Task<bool>> isAlive, TimeProvider time, CoordinatorOptions options)
    {
        _topology = topology;
        _minReplicas = minReplicas;
        _isAlive = isAlive;
        _time = time;
        _options = options;
        _expected = [.. Enumerable.Range(0, topology.Workers)];
        // Ids start in a random epoch: after a coordinator restart no id repeats one its members still remember. The two
        // top bits stay clear for the ring channels derived from an id (RingChannels).
        _lastQuorumId = (ulong)Random.Shared.Next(1, 1 << 30) << 32;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Waits at a sync point until this replica's quorum forms.</summary>
    public Task<QuorumReply> ArriveAsync(QuorumRequest request, CancellationToken cancellationToken)
    {
        var arrival = new Arrival(request, new TaskCompletionSource<QuorumReply>(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (_gate)
        {
            if (_arrivals.Count == 0)
            {
                _firstArrival = _time.GetUtcNow();
            }

            if (_arrivals.Remove(request.Rank, out Arrival? previous))
            {
                previous.Reply.TrySetCanceled(CancellationToken.None);
            }

            _arrivals[request.Rank] = arrival;
            _expected.Add(request.Rank);
            // A caller that gave up must not become a phantom member of the next quorum.
            cancellationToken.Register(() =>
            {
                lock (_gate)
                {
                    if (_arrivals.TryGetValue(request.Rank, out Arrival? current) && current == arrival)
                    {
                        _arrivals.Remove(request.Rank);
                    }
                }
            });

            RegroupReplicas();
            // Fast path: the last expected member just arrived; no need to wait for the probe loop.
            if (_arrivals.Count > 0 && _expected.All(_arrivals.ContainsKey) && CompleteReplicas().Count >= _minReplicas)
            {
                Form();
            }
        }

        return arrival.Reply.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Queues a sync-period change. It travels in the reply of the next quorum, so every member of that quorum
    /// learns it at the same sync point and switches at the same step.
    /// </summary>
    public void ProposePeriods(IReadOnlyDictionary<string, int> periods, long switchStep)
    {
        lock (_gate)
        {
            _proposedPeriods = new PeriodChange(new Dictionary<string, int>(periods), switchStep);
        }
    }

    /// <summary>Records a member's vote and waits for the quorum's decision.</summary>
    public Task<bool> CommitAsync(ulong quorumId, int rank, bool ok, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_votes.TryGetValue(quorumId, out Vote? vote))
            {
                return Task.FromResult(false);
            }

            vote.Ballots[rank] = ok;
            if (!ok)
            {
                Decide(vote, false);
            }
            else if (vote.Members.All(vote.Ballots.ContainsKey))
            {
                Decide(vote, vote.Ballots.Values.All(b => b));
            }

            return vote.Decision.Task.WaitAsync(cancellationToken);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }

        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.ProbeInterval, _time, _stop.Token);
                await TryFormAsync();
                await DecideVotesAsync();
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Keep deciding: a coordinator whose loop died would leave every later round waiting forever.
                System.Diagnostics.Trace.TraceError($"Quorum coordinator loop: {e}");
            }
        }
    }

    /// <summary>Settles a vote; a period change carried by a committed quorum has reached every member and is done.</summary>
    private void Decide(Vote vote, bool committed)
    {
        if (vote.Decision.TrySetResult(committed) && committed && _proposedPeriods is { } change && change.CarriedBy.Contains(vote.QuorumId))
        {
            _proposedPeriods = null;
        }
    }

    private async Task TryFormAsync()
    {
        int[] missing;
        long generation;
        lock (_gate)
        {
            if (_arrivals.Count == 0)
            {
                return;
            }

            missing = _expected.Where(rank => !_arrivals.ContainsKey(rank)).ToArray();
            generation = _generation;
        }

        TimeSpan waited = _time.GetUtcNow() - _firstArrival;
        foreach (int rank in missing)
        {
            // Before the first quorum a refused ping means "not started yet", so only the join timeout drops a replica.
            bool alive = _started
                ? waited < _options.ArrivalTimeout && await _isAlive(rank, _stop.Token)
                : waited < _options.JoinTimeout;
            if (!alive)
            {
                lock (_gate)
                {
                    // Only if no quorum formed meanwhile and the rank is still missing: never drop a fresh member.
                    if (_generation == generation && !_arrivals.ContainsKey(rank))
                    {
                        _expected.Remove(rank);
                    }
                }
            }
        }

        lock (_gate)
        {
            if (_arrivals.Count == 0 || _expected.Any(rank => !_arrivals.ContainsKey(rank)) || CompleteReplicas().Count < _minReplicas)
            {
                return;
            }

            Form();
        }
    }

    /// <summary>Replicas every worker of which has arrived.</summary>
    private HashSet<int> CompleteReplicas() =>
        [.. _arrivals.Keys.GroupBy(_topology.ReplicaOf).Where(g => g.Count() == _topology.WorkersPerReplica).Select(g => g.Key)];

    /// <summary>Forms a quorum of each whole replica whose workers wait at a step's start (or are joining), with one live among them.</summary>
    private void RegroupReplicas()
    {
        foreach (IGrouping<int, Arrival> replica in _arrivals.Values.GroupBy(a => _topology.ReplicaOf(a.Request.Rank)).ToArray())
        {
            if (replica.Count() == _topology.WorkersPerReplica
                && replica.Any(a => !a.Request.Joining && a.Request.Phase == StepStart)
                && replica.All(a => a.Request.Joining || a.Request.Phase == StepStart))
            {
                Arrival[] workers = [.. replica.OrderBy(a => a.Request.Rank)];
                foreach (Arrival worker in workers)
                {
                    _arrivals.Remove(worker.Request.Rank);
                    _expected.Add(worker.Request.Rank);
                }

                // A period change waits for a quorum of every replica, so that all switch at the same step.
                Reply(workers, carryPeriods: false);
            }
        }
    }

    private void Form()
    {
        HashSet<int> complete = CompleteReplicas();
        Arrival[] arrivals = [.. _arrivals.Values.Where(a => complete.Contains(_topology.ReplicaOf(a.Request.Rank))).OrderBy(a => a.Request.Rank)];
        foreach (Arrival arrival in arrivals)
        {
            _arrivals.Remove(arrival.Request.Rank);
        }

        int[] members = Reply(arrivals, carryPeriods: true);
        // Workers of a replica still missing one wait on for the next quorum, and are expected there.
        _firstArrival = _time.GetUtcNow();
        _expected.Clear();
        _expected.UnionWith(members);
        _expected.UnionWith(_arrivals.Keys);
        _started = true;
    }

    /// <summary>Makes <paramref name="arrivals"/> a quorum and answers each of them; returns the members.</summary>
    private int[] Reply(Arrival[] arrivals, bool carryPeriods)
    {
        ulong id = ++_lastQuorumId;
        QuorumPlan plan = QuorumPlan.Decide([.. arrivals.Select(a => a.Request)], _topology);
        int[] members = [.. plan.Members];
        _generation++;
        _votes[id] = new Vote(id, [.. members], _time.GetUtcNow());
        foreach (ulong old in _votes.Keys.Where(k => k + 8 < id).ToArray())
        {
            _votes.Remove(old);
        }

        // A change fixes its switch step when it first travels, and keeps travelling until a quorum carrying it
        // commits, so a failed round or a joiner healed from an older snapshot cannot lose it.
        PeriodChange? change = carryPeriods ? _proposedPeriods : null;
        if (change is not null)
        {
            change.EffectiveSwitchStep ??= Math.Max(change.SwitchStep, plan.Step + 1);
            change.CarriedBy.Add(id);
        }

        foreach (Arrival arrival in arrivals)
        {
            var reply = new QuorumReply
            {
                QuorumId = id,
                Step = plan.Step,
                Phase = plan.Phase,
                HealFrom = plan.HealFromFor(arrival.Request),
                ResumeCheckpoint = plan.ResumeCheckpoint,
            };
            reply.Members.AddRange(members);
            if (change is not null)
            {
                reply.Periods.Add(change.Periods);
                reply.SwitchStep = change.EffectiveSwitchStep!.Value;
            }

            arrival.Reply.TrySetResult(reply);
        }

        return members;
    }

    private async Task DecideVotesAsync()
    {
        List<(Vote Vote, int[] Missing)> open;
        lock (_gate)
        {
            open = [.. _votes.Values.Where(v => !v.Decision.Task.IsCompleted && v.Ballots.Count > 0)
                .Select(v => (v, v.Members.Where(m => !v.Ballots.ContainsKey(m)).ToArray()))];
        }

        foreach ((Vote vote, int[] missing) in open)
        {
            bool anyDead = false;
            foreach (int rank in missing)
            {
                anyDead |= !await _isAlive(rank, _stop.Token);
            }

            lock (_gate)
            {
                bool timedOut = _time.GetUtcNow() - vote.Opened > _options.ArrivalTimeout;
                if (vote.Members.All(vote.Ballots.ContainsKey))
                {
                    Decide(vote, vote.Ballots.Values.All(ok => ok));
                }
                else if (anyDead || timedOut || vote.Ballots.Values.Any(ok => !ok))
                {
                    Decide(vote, false);
                }
            }
        }
    }

    private sealed record Arrival(QuorumRequest Request, TaskCompletionSource<QuorumReply> Reply);

    private sealed record PeriodChange(Dictionary<string, int> Periods, long SwitchStep)
    {
        public long? EffectiveSwitchStep { get; set; }

        public HashSet<ulong> CarriedBy { get; } = [];
    }

    private sealed record Vote(ulong QuorumId, int[] Members, DateTimeOffset Opened)
    {
        public Dictionary<int, bool> Ballots { get; } = [];

        public TaskCompletionSource<bool> Decision { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
