using System.Globalization;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Reconciliation;
using DesLoc.Operator.Trainers;
using DesLoc.Transport.Protocol;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace DesLoc.Operator.Local;

/// <summary>
/// The live view of a local run: one row per replica (phase, step, loss, bytes sent, restarts), or per worker of each
/// replica when replicas have more than one (with the bytes each sent inside its replica), under a header with the
/// job's phase and its reduction vs DDP, and the latest events. Where the terminal is not interactive (CI, a pipe),
/// it prints a progress line every few seconds and each event as it happens instead.
/// </summary>
public sealed class ProgressDisplay(IAnsiConsole console) : IProgressView, IDisposable
{
    private static readonly TimeSpan s_lineInterval = TimeSpan.FromSeconds(3);
    private readonly Dictionary<int, TrainerClient> _clients = [];
    private readonly Dictionary<int, StatusReply> _workers = [];
    private readonly List<JobEvent> _events = [];
    private LiveDisplayContext? _live;
    private LowCommJob? _job;
    private DateTime _lastLine = DateTime.MinValue;

    /// <summary>Runs <paramref name="body"/> under a live display when the terminal allows one.</summary>
    public async Task<T> RunAsync<T>(Func<Task<T>> body)
    {
        if (!console.Profile.Capabilities.Interactive)
        {
            return await body();
        }

        T result = default!;
        await console.Live(new Text("Starting replicas...")).AutoClear(false).StartAsync(async context =>
        {
            _live = context;
            result = await body();
            context.UpdateTarget(Render());
            context.Refresh();
        });
        _live = null;
        return result;
    }

    public void OnEvent(JobEvent jobEvent)
    {
        lock (_events)
        {
            _events.Add(jobEvent);
        }

        if (_live is null)
        {
            console.MarkupLineInterpolated($"[{(jobEvent.Type == "Warning" ? "yellow" : "grey")}]{jobEvent.Reason}[/]: {jobEvent.Message}");
        }
    }

    public async Task RefreshAsync(LowCommJob job, ReplicaLayout layout, JobCredentials credentials, IReadOnlyDictionary<int, int> running, CancellationToken cancellation)
    {
        _job = job;
        foreach (int index in running.Keys) // global ranks
        {
            if (!_clients.TryGetValue(index, out TrainerClient? client))
            {
                client = new TrainerClient($"{layout.Host(index)}:{layout.GrpcPort(index)}", credentials);
                _clients[index] = client;
            }

            try
            {
                _workers[index] = await client.GetStatusAsync(TimeSpan.FromSeconds(2), cancellation);
            }
            catch (Exception e) when (e is Grpc.Core.RpcException or HttpRequestException)
            {
                // Starting or restarting: keep the last figures.
            }
        }

        if (_live is not null)
        {
            _live.UpdateTarget(Render());
            _live.Refresh();
        }
        else if (DateTime.UtcNow - _lastLine >= s_lineInterval)
        {
            _lastLine = DateTime.UtcNow;
            console.WriteLine(ProgressLine(job));
        }
    }

    /// <summary>The one-line summary printed when the terminal is not interactive.</summary>
    public static string ProgressLine(LowCommJob job)
    {
        LowCommJobStatus status = job.Status ?? new LowCommJobStatus();
        return string.Create(CultureInfo.InvariantCulture,
            $"{status.Phase,-10} step {status.Step ?? 0}/{job.Spec.Training.Steps} | loss {Loss(status.Loss)}{(status.EvalLoss is { } eval ? $" | held-out {Loss(eval)} (perplexity {Perplexity(status.EvalPerplexity)}, step {status.EvalStep})" : "")} | sent {Bytes(status.Communication?.BytesSent)} between replicas{(status.Communication?.IntraBytesSent is { } intra ? $", {Bytes(intra)} inside" : "")} | reduction vs DDP {Reduction(status.Communication?.Reduction)} | ready {status.Ready ?? "-"}{(job.Spec.WorkersPerReplica > 1 ? $" | workers {status.WorkersReady ?? "-"}" : "")} | restarts {status.Restarts}");
    }

    /// <summary>The final summary, in the same words as the live view.</summary>
    public void PrintSummary(LowCommJob job, LocalRunResult result, string runDirectory, string? exportDirectory = null)
    {
        LowCommJobStatus status = result.Status;
        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("Job", job.Spec.WorkersPerReplica > 1
            ? $"{job.Metadata.Name} ({job.Spec.Algorithm.Type}, {job.Spec.Replicas} replicas of {job.Spec.WorkersPerReplica} workers)"
            : $"{job.Metadata.Name} ({job.Spec.Algorithm.Type}, {job.Spec.Replicas} replicas)");
        grid.AddRow("Result", result.Stopped ? "stopped (each replica wrote a checkpoint; run the same file again to resume)" : $"{status.Phase}{(status.Message is null ? "" : $": {status.Message}")}");
        grid.AddRow("Step", string.Create(CultureInfo.InvariantCulture, $"{status.Step ?? 0} of {job.Spec.Training.Steps}"));
        grid.AddRow("Loss", Loss(status.Loss));
        grid.AddRow("Held-out loss", status.EvalLoss is { } eval
            ? string.Create(CultureInfo.InvariantCulture, $"{Loss(eval)} (perplexity {Perplexity(status.EvalPerplexity)}, step {status.EvalStep})")
            : "-");
        grid.AddRow("Sent between replicas", Bytes(status.Communication?.BytesSent));
        if (status.Communication?.IntraBytesSent is { } intra)
        {
            grid.AddRow("Sent inside replicas", Bytes(intra));
        }

        grid.AddRow("DDP would send", Bytes(status.Communication?.DdpEquivalentBytes));
        grid.AddRow("Reduction vs DDP", Reduction(status.Communication?.Reduction));
        grid.AddRow("Restarts", status.Restarts.ToString(CultureInfo.InvariantCulture));
        grid.AddRow("Wall time", string.Create(CultureInfo.InvariantCulture, $"{result.Elapsed.TotalSeconds:0.0} s"));
        grid.AddRow("Logs and checkpoints", runDirectory);
        if (exportDirectory is not null && Directory.Exists(exportDirectory))
        {
            grid.AddRow("Exported model", exportDirectory);
        }
        console.Write(new Panel(grid).Header("Summary"));
    }

    public void Dispose()
    {
        foreach (TrainerClient client in _clients.Values)
        {
            client.Dispose();
        }
    }

    private IRenderable Render()
    {
        if (_job is not { } job)
        {
            return new Text("Starting replicas...");
        }

        LowCommJobStatus status = job.Status ?? new LowCommJobStatus();
        int perReplica = job.Spec.WorkersPerReplica;
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"{job.Metadata.Name}: {status.Phase}, reduction vs DDP {Reduction(status.Communication?.Reduction)}{(status.EvalLoss is { } eval ? $", held-out loss {Loss(eval)} (perplexity {Perplexity(status.EvalPerplexity)}) at step {status.EvalStep}" : "")}");
        if (perReplica == 1)
        {
            table.AddColumns("Replica", "Phase", "Step", "Loss", "Sent", "Restarts");
            foreach (ReplicaStatus replica in status.Replicas)
            {
                _workers.TryGetValue(replica.Index, out StatusReply? reply);
                table.AddRow(
                    replica.Index.ToString(CultureInfo.InvariantCulture),
                    replica.Phase.ToString(),
                    reply?.Step.ToString(CultureInfo.InvariantCulture) ?? "-",
                    reply is null ? "-" : Loss(reply.Loss),
                    Bytes(reply?.BytesSent.Values.Sum()),
                    replica.Restarts.ToString(CultureInfo.InvariantCulture));
            }
        }
        else
        {
            // A row per worker: "Sent" is its shard of the exchanges between replicas, "Inside" what it sent in its replica.
            table.AddColumns("Replica", "Worker", "Phase", "Step", "Loss", "Sent", "Inside", "Restarts");
            foreach (ReplicaStatus replica in status.Replicas)
            {
                foreach (WorkerStatus worker in replica.Workers ?? [])
                {
                    _workers.TryGetValue((replica.Index * perReplica) + worker.Index, out StatusReply? reply);
                    table.AddRow(
                        worker.Index == 0 ? replica.Index.ToString(CultureInfo.InvariantCulture) : "",
                        worker.Index.ToString(CultureInfo.InvariantCulture),
                        worker.Phase.ToString(),
                        reply?.Step.ToString(CultureInfo.InvariantCulture) ?? "-",
                        reply is null ? "-" : Loss(reply.Loss),
                        Bytes(reply?.BytesSent.Values.Sum()),
                        Bytes(reply?.IntraBytesSent.Values.Sum()),
                        worker.Restarts.ToString(CultureInfo.InvariantCulture));
                }
            }
        }

        var progress = new BreakdownChart().Width(60)
            .AddItem("done", status.Step ?? 0, Color.Green)
            .AddItem("to go", Math.Max(0, job.Spec.Training.Steps - (status.Step ?? 0)), Color.Grey);
        string[] recent;
        lock (_events)
        {
            recent = [.. _events.TakeLast(4).Select(e => $"{e.Reason}: {e.Message}")];
        }

        return new Rows(table, progress, new Text(string.Join(Environment.NewLine, recent)));
    }

    private static string Perplexity(double? perplexity) => perplexity is { } value ? value.ToString("0.00", CultureInfo.InvariantCulture) : "-";

    private static string Loss(double? loss) => loss is { } value ? value.ToString("0.0000", CultureInfo.InvariantCulture) : "-";

    private static string Reduction(double? reduction) => reduction is { } value ? value.ToString("0.0", CultureInfo.InvariantCulture) + "x" : "-";

    private static string Bytes(long? bytes) => bytes switch
    {
        null => "-",
        < 1 << 10 => $"{bytes} B",
        < 1 << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB"),
        < 1 << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0.00} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1073741824.0:0.00} GiB"),
    };
}
