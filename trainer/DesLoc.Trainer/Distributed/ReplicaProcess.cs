using DesLoc.Contract.Wire;
using DesLoc.Trainer.Training;
using System.Runtime.InteropServices;
using DesLoc.Sync.Accounting;
using DesLoc.Trainer.Checkpoints;
using DesLoc.Trainer.Data;
using DesLoc.Trainer.Export;
using DesLoc.Transport.Collectives;
using DesLoc.Transport.Grpc;
using DesLoc.Transport.Membership;
using DesLoc.Transport.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;
using static TorchSharp.torch;

namespace DesLoc.Trainer.Distributed;

/// <summary>
/// One worker of a job as its own process (the container's entry point; with one worker per replica, the replica):
/// reads the env contract, serves gRPC (sync, heal, status; the coordinator on global rank 0) and HTTP (<c>/metrics</c>, <c>/healthz</c>, <c>/readyz</c>),
/// trains, and on SIGTERM finishes the current step, writes a checkpoint and exits.
/// </summary>
internal static class ReplicaProcess
{
    /// <summary>Runs the worker on <paramref name="data"/>, opened (and checked) by the caller before anything starts.</summary>
    public static async Task<int> RunAsync(ReplicaEnvironment environment, JobSpec spec, ITokenSource data)
    {
        using ILoggerFactory loggerFactory = LoggerFactory.Create(logging => logging
            .AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
            })
            .AddFilter("Microsoft", LogLevel.Warning)
            .AddFilter("Grpc", LogLevel.Warning));
        ILogger logger = loggerFactory.CreateLogger("desloc.trainer");

        set_num_threads(spec.Training.Threads);
        JobTopology topology = environment.Topology;
        int self = environment.GlobalRank;
        using JobTls? tls = environment.Tls(spec.Transport);
        using var peers = new PeerDirectory(environment.Peers, environment.Token, tls);
        var mailbox = new Mailbox();
        System.Net.IPAddress address = System.Net.IPAddress.Parse(environment.BindAddress);
        await using SocketDataPlane? dataPlane = spec.Transport.DataPlane == "socket"
            ? new SocketDataPlane(address, environment.GrpcPort + 1, environment.Token, tls, spec.Transport.Streams, spec.Transport.SocketBufferBytes)
            : null;
        (string Host, int Port)[] dataEndpoints = [.. environment.Peers.Select(SocketDataPlane.DataEndpointOf)];
        IRingLink Link() => dataPlane is not null
            ? new SocketRingLink(self, dataEndpoints, dataPlane)
            : new GrpcRingLink(self, peers, mailbox);
        var rings = new WorkerRings(topology, environment.Rank, environment.Worker, Link, TimeSpan.FromSeconds(spec.FaultTolerance.RoundTimeoutSeconds), WireCompression.For(spec.EffectiveSyncCompression));
        using QuorumCoordinator? coordinator = self == 0
            ? new QuorumCoordinator(topology, spec.MinReplicas ?? 1, (peer, ct) => MembershipClient.PingAsync(peers, peer, ct), TimeProvider.System, new CoordinatorOptions
            {
                JoinTimeout = TimeSpan.FromSeconds(spec.FaultTolerance.JoinTimeoutSeconds),
                ArrivalTimeout = TimeSpan.FromSeconds(spec.FaultTolerance.ArrivalTimeoutSeconds),
            })
            : null;
        var membership = new MembershipClient(self, peers, coordinator);
        // Checkpoints per worker: rank-r/ as before with one worker per replica, else rank-r/worker-w/.
        CheckpointStore? checkpoints = spec.Checkpoint.Path is { } root
            ? new CheckpointStore(
                topology.WorkersPerReplica == 1 ? Path.Combine(root, $"rank-{environment.Rank}") : Path.Combine(root, $"rank-{environment.Rank}", $"worker-{environment.Worker}"),
                spec.Checkpoint.Keep, message => logger.CheckpointRefused(message), spec)
            : null;

        random.manual_seed(spec.Training.Seed);
        using var replica = new ReplicaTrainer(spec, data, rings.Slow, Devices.Preferred(), place: new WorkerPlace(environment.Worker, rings.Fast));
        var gate = new FaultTolerantGate(self, membership, rings, checkpoints, spec.Checkpoint.EverySteps, logger);
        var metrics = new TrainerMetrics(replica, rings.InterMeter, gate);

        var endpoint = new Endpoint(self, replica, gate, rings.InterMeter, coordinator);
        WebApplicationBuilder builder = ReplicaServer.CreateBuilder(address, environment.GrpcPort, environment.Token, tls, mailbox, endpoint, coordinator);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(address, environment.MetricsPort, listen => listen.Protocols = HttpProtocols.Http1));
        // Signals are handled below, so that the servers stay up until the current round is finished.
        builder.Services.AddSingleton<IHostLifetime, ManualLifetime>();

        await using WebApplication app = builder.Build();
        ReplicaServer.MapServices(app);
        app.MapMetrics("/metrics", metrics.Registry);
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapGet("/readyz", () => gate.Started ? Results.Text("ready") : Results.Text("waiting for the first quorum", statusCode: 503));
        await app.StartAsync();

        // SIGTERM (or Ctrl+C) asks for a graceful stop at the next step boundary; the same signal twice aborts.
        using var stopping = new CancellationTokenSource();
        using var stop = new CancellationTokenSource();
        var received = new HashSet<PosixSignal>();
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            // The same signal twice (Ctrl+C pressed again): stop now. Ctrl+C in a terminal reaches every process of
            // the group, so `run` sees SIGINT and then the operator's SIGTERM: that is still one graceful stop.
            lock (received)
            {
                if (!received.Add(context.Signal))
                {
                    stop.Cancel();
                }
            }

            stopping.Cancel();
        }

        using PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        void ReportProgress(object? state)
        {
            if (logger.IsEnabled(LogLevel.Information))
            {
                logger.Progress(replica.Step, spec.Training.Steps, replica.RecentLoss, replica.Ledger.TotalWireBytes,
                    replica.Ledger.ReductionVsDdp, string.Join(",", gate.LastQuorum?.Members ?? []));
            }
        }

        using var progress = new Timer(ReportProgress, null, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5));
        replica.Evaluated += evaluation => logger.Evaluated(evaluation.Step, spec.Training.Steps, evaluation.Loss, evaluation.Perplexity);

        int exitCode = 0;
        try
        {
            await replica.RunAsync(gate, stopping.Token, stop.Token);
            if (stopping.IsCancellationRequested)
            {
                logger.Stopping(self, replica.Step);
                gate.SaveCheckpoint(replica, replica.Step);
                // 128 + SIGTERM, as a signalled process reports: the operator must not take a stopped replica for a finished one.
                exitCode = TrainerExitCodes.Stopped;
            }
            else
            {
                Evaluation evaluation = replica.EvaluateAt(replica.Step);
                logger.Finished(self, replica.Step, evaluation.Loss);
                if (self == 0 && spec.Checkpoint.Path is { } exportRoot)
                {
                    string exported = ModelExport.Write(replica.NamedWeights(), spec, ModelExport.DirectoryUnder(exportRoot));
                    logger.Exported(exported);
                }
            }

            // Stay up briefly, finished or stopped, so a peer still fetching state or voting on the last round (the
            // coordinator answers every vote) is not cut off.
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
        catch (OperationCanceledException)
        {
            exitCode = TrainerExitCodes.Stopped;
        }

        await app.StopAsync();
        return exitCode;
    }

    /// <summary>Serves the worker's state and status to peers and the operator.</summary>
    private sealed class Endpoint(int rank, ReplicaTrainer replica, FaultTolerantGate gate, LinkMeter interLink, QuorumCoordinator? coordinator) : IReplicaEndpoint
    {
        /// <summary>The worker's global rank.</summary>
        public int Rank => rank;

        public long Step => replica.Step;

        public Task<byte[]> SnapshotAsync(CancellationToken cancellationToken) => gate.SnapshotBytesAsync(cancellationToken);

        public StatusReply Status()
        {
            LedgerSnapshot ledger = replica.Ledger.Snapshot();
            var reply = new StatusReply
            {
                Rank = replica.Rank,
                Worker = replica.Worker,
                Step = replica.Step,
                Loss = replica.RecentLoss,
                DdpEquivalentBytes = ledger.DdpEquivalentWireBytes,
                LinkBandwidthBytesPerSecond = interLink.BytesPerSecond,
                SyncSeconds = replica.SyncTime.TotalSeconds,
                ComputeSeconds = replica.ComputeTime.TotalSeconds,
                QuorumId = gate.LastQuorum?.QuorumId ?? 0,
            };
            if (replica.LastEvaluation is { } evaluation)
            {
                reply.EvalLoss = evaluation.Loss;
                reply.EvalStep = evaluation.Step;
            }

            foreach ((StateKind kind, long bytes) in ledger.WireBytes)
            {
                reply.BytesSent[kind.Label()] = bytes;
            }

            foreach ((StateKind kind, long bytes) in ledger.IntraWireBytes.Where(b => b.Value > 0))
            {
                reply.IntraBytesSent[kind.Label()] = bytes;
            }

            reply.Members.AddRange(gate.LastQuorum?.Members ?? []);
            reply.SyncPeriods.Add(replica.Strategy.Periods.ToDictionary());
            return reply;
        }

        /// <summary>
        /// Only the coordinator takes changes: it hands them to every member with the next quorum, so all switch at
        /// the same step. The switch step must lie ahead of this replica's progress.
        /// </summary>
        public SetSyncPeriodsReply SetSyncPeriods(SetSyncPeriodsRequest request)
        {
            if (coordinator is null)
            {
                return new SetSyncPeriodsReply { Accepted = false, Message = $"Worker {rank} is not the coordinator: send sync-period changes to global rank 0 (replica 0, worker 0)." };
            }

            if (replica.Strategy.CheckPeriods(request.Periods) is { } problem)
            {
                return new SetSyncPeriodsReply { Accepted = false, Message = problem };
            }

            if (request.SwitchStep <= replica.Step)
            {
                return new SetSyncPeriodsReply { Accepted = false, Message = $"Switch step {request.SwitchStep} is not ahead of step {replica.Step}." };
            }

            coordinator.ProposePeriods(request.Periods, request.SwitchStep);
            return new SetSyncPeriodsReply { Accepted = true, Message = $"Every replica switches at the first sync point's next step, no earlier than step {request.SwitchStep}." };
        }
    }

    /// <summary>A host lifetime that ignores console signals: the process handles SIGTERM itself.</summary>
    private sealed class ManualLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
