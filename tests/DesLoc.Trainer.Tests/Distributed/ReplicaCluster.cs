using DesLoc.Contract.Wire;
using System.Diagnostics;
using DesLoc.Sync.State;

using DesLoc.Operator.Local;

namespace DesLoc.Trainer.Tests.Distributed;

/// <summary>
/// A job's workers as real <c>desloc-trainer</c> processes on loopback, configured through the operator's env
/// contract, each with its own log file, indexed by global rank (replica-major; with one worker per replica, the
/// replica). Killed on dispose; every wait is bounded.
/// </summary>
internal sealed class ReplicaCluster : IDisposable
{
    private readonly Process?[] _processes;
    private readonly int[] _grpcPorts;
    private readonly int[] _metricsPorts;
    private readonly string _specPath;

    public ReplicaCluster(JobSpec spec, int checkpointEverySteps = 0, string token = "test-token", JobTlsFiles? tls = null)
    {
        Token = token;
        Directory = System.IO.Directory.CreateTempSubdirectory("desloc-cluster-").FullName;
        Spec = checkpointEverySteps > 0
            ? spec with { Checkpoint = new CheckpointSpec { EverySteps = checkpointEverySteps, Path = CheckpointRoot, Keep = 3 } }
            : spec;
        spec = Spec;
        _specPath = Path.Combine(Directory, "spec.json");
        File.WriteAllText(_specPath, JobSpecJson.Serialize(spec));
        Topology = new JobTopology(spec.Replicas, spec.WorkersPerReplica);
        _processes = new Process?[Topology.Workers];
        _grpcPorts = [.. Enumerable.Range(0, Topology.Workers).Select(_ => LoopbackPorts.FreePair())];
        _metricsPorts = [.. Enumerable.Range(0, Topology.Workers).Select(_ => LoopbackPorts.Free())];
        if (spec.Transport.Tls)
        {
            // As the kubelet mounts the Secret's keys: the job's material, or a loopback job's as `run` issues it.
            JobTlsFiles files = tls ?? JobTlsFiles.Issue("test", ["localhost", "127.0.0.1"], DateTimeOffset.UtcNow);
            System.IO.Directory.CreateDirectory(TlsDirectory);
            File.WriteAllText(Path.Combine(TlsDirectory, JobTlsFiles.CaFile), files.CaCertificate);
            File.WriteAllText(Path.Combine(TlsDirectory, JobTlsFiles.CertificateFile), files.Certificate);
            File.WriteAllText(Path.Combine(TlsDirectory, JobTlsFiles.KeyFile), files.PrivateKey);
            Tls = JobTls.From(files);
        }
    }

    /// <summary>The job's TLS material, for clients of the trainers (null when the spec turns TLS off).</summary>
    public JobTls? Tls { get; }

    private string TlsDirectory => Path.Combine(Directory, "tls");

    public JobTopology Topology { get; }

    public JobSpec Spec { get; }

    public string Token { get; }

    public string Directory { get; }

    public string CheckpointRoot => Path.Combine(Directory, "checkpoints");

    public string GrpcAddress(int rank) => $"127.0.0.1:{_grpcPorts[rank]}";

    public string MetricsUrl(int rank) => $"http://127.0.0.1:{_metricsPorts[rank]}";

    public void StartAll()
    {
        for (int rank = 0; rank < Topology.Workers; rank++)
        {
            Start(rank);
        }
    }

    public void Start(int rank)
    {
        string trainer = Path.Combine(AppContext.BaseDirectory, "desloc-trainer.dll");
        var start = new ProcessStartInfo("dotnet", [trainer])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment[TrainerEnvironment.Job] = "test";
        start.Environment[TrainerEnvironment.Rank] = Topology.ReplicaOf(rank).ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment[TrainerEnvironment.WorldSize] = Spec.Replicas.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment[TrainerEnvironment.Worker] = Topology.WorkerOf(rank).ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment[TrainerEnvironment.WorkersPerReplica] = Topology.WorkersPerReplica.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment[TrainerEnvironment.Peers] = string.Join(",", Enumerable.Range(0, Topology.Workers).Select(GrpcAddress));
        start.Environment[TrainerEnvironment.Config] = _specPath;
        start.Environment[TrainerEnvironment.Token] = Token;
        start.Environment[TrainerEnvironment.GrpcPort] = _grpcPorts[rank].ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment[TrainerEnvironment.MetricsPort] = _metricsPorts[rank].ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment[TrainerEnvironment.BindAddress] = "127.0.0.1";
        if (Tls is not null)
        {
            start.Environment[TrainerEnvironment.TlsDirectory] = TlsDirectory;
        }
        start.Environment[DesLoc.Contract.Wire.TrainerEnvironment.TerminationMessagePath] = TerminationMessagePath(rank);
        var process = new Process { StartInfo = start };
        string log = LogPath(rank);
        var writer = new StreamWriter(log, append: true) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => Write(writer, e.Data);
        process.ErrorDataReceived += (_, e) => Write(writer, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes[rank] = process;
    }

    public int ProcessId(int rank) => _processes[rank]!.Id;

    public bool HasExited(int rank) => _processes[rank]?.HasExited ?? false;

    /// <summary>SIGKILL: no checkpoint, no goodbye.</summary>
    public void Kill(int rank)
    {
        Process? process = _processes[rank];
        if (process is { HasExited: false })
        {
            process.Kill();
            process.WaitForExit(10_000);
        }
    }

    public Task<int[]> WaitForAllAsync(TimeSpan timeout) => WaitForAsync(Enumerable.Range(0, Topology.Workers), timeout);

    public async Task<int[]> WaitForAsync(IEnumerable<int> ranks, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            return await Task.WhenAll(ranks.Select(rank => _processes[rank]).Select(async p =>
            {
                await p!.WaitForExitAsync(cancel.Token);
                return p.ExitCode;
            }));
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"Replicas did not finish within {timeout}. Logs:{Environment.NewLine}{AllLogs()}");
        }
    }

    /// <summary>Waits until every listed replica reports at least <paramref name="step"/> steps on /metrics.</summary>
    public async Task WaitForStepAsync(IEnumerable<int> ranks, long step, TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        foreach (int rank in ranks)
        {
            while (await StepAsync(http, rank) < step)
            {
                if (clock.Elapsed > timeout)
                {
                    throw new TimeoutException($"Rank {rank} did not reach step {step} within {timeout}. Logs:{Environment.NewLine}{AllLogs()}");
                }

                await Task.Delay(100);
            }
        }
    }

    /// <summary>What replica <paramref name="rank"/> wrote to its termination-message path, or null.</summary>
    public string? TerminationMessage(int rank) => File.Exists(TerminationMessagePath(rank)) ? File.ReadAllText(TerminationMessagePath(rank)) : null;

    private string TerminationMessagePath(int rank) => Path.Combine(Directory, $"rank-{rank}.termination");

    public string Log(int rank) => File.Exists(LogPath(rank)) ? ReadShared(LogPath(rank)) : "";

    public string AllLogs() => string.Join(Environment.NewLine, Enumerable.Range(0, Topology.Workers).Select(r => $"--- rank {r} ---{Environment.NewLine}{Log(r)}"));

    /// <summary>The held-out loss a replica printed when it finished.</summary>
    public double FinalLoss(int rank)
    {
        string line = Log(rank).Split('\n').Last(l => l.Contains("held-out loss", StringComparison.Ordinal));
        return double.Parse(line[(line.LastIndexOf(' ') + 1)..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The state a replica checkpointed at <paramref name="step"/>.</summary>
    public StateBundle Checkpoint(int rank, long step) => StateBundle.FromBytes(File.ReadAllBytes(Path.Combine(CheckpointDirectory(rank), $"step-{step:D9}.state")));

    /// <summary>Where worker <paramref name="rank"/> checkpoints: rank-r/, or rank-r/worker-w/ with several workers per replica.</summary>
    public string CheckpointDirectory(int rank) => Topology.WorkersPerReplica == 1
        ? Path.Combine(CheckpointRoot, $"rank-{rank}")
        : Path.Combine(CheckpointRoot, $"rank-{Topology.ReplicaOf(rank)}", $"worker-{Topology.WorkerOf(rank)}");

    public void Dispose()
    {
        for (int rank = 0; rank < _processes.Length; rank++)
        {
            Kill(rank);
            _processes[rank]?.Dispose();
        }

        Tls?.Dispose();
    }

    private async Task<double> StepAsync(HttpClient http, int rank)
    {
        try
        {
            string text = await http.GetStringAsync($"{MetricsUrl(rank)}/metrics");
            string? line = text.Split('\n').FirstOrDefault(l => l.StartsWith("desloc_step ", StringComparison.Ordinal));
            return line is null ? -1 : double.Parse(line["desloc_step ".Length..], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return -1;
        }
    }

    private string LogPath(int rank) => Path.Combine(Directory, $"rank-{rank}.log");

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static void Write(StreamWriter writer, string? line)
    {
        if (line is not null)
        {
            lock (writer)
            {
                writer.WriteLine(line);
            }
        }
    }
}
