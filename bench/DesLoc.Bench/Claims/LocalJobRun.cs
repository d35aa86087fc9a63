using System.Diagnostics;
using System.Globalization;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Local;
using DesLoc.Operator.Reconciliation;
using DesLoc.Operator.Trainers;

namespace DesLoc.Bench.Claims;

/// <summary>One status sample of a running job as the operator saw it: rank 0's counters; loss is rank 0's running mean.</summary>
internal sealed record Sample(
    double Seconds, long Step, double? Loss, long BytesSent, long DdpBytes, double? Bandwidth, double? CommFraction, IReadOnlyDictionary<string, int> Periods);

/// <summary>How one run of a method went: its status samples, held-out losses from the replicas' logs, time.</summary>
internal sealed record RunOutcome(Method Method, IReadOnlyList<Sample> Samples, IReadOnlyList<double> HeldOut, JobPhase Phase, TimeSpan Elapsed)
{
    public double HeldOutLoss => HeldOut.Count > 0 ? HeldOut.Average() : double.NaN;

    public Sample Last => Samples.Count > 0 ? Samples[^1] : new Sample(0, 0, null, 0, 0, null, null, new Dictionary<string, int>());

    /// <summary>Seconds from the first trained step until rank 0's running loss first reached the target; null if never.</summary>
    public double? SecondsTo(double target)
    {
        double start = Samples.FirstOrDefault(s => s.Step > 0)?.Seconds ?? 0;
        return Samples.FirstOrDefault(s => s.Loss <= target) is { } hit ? hit.Seconds - start : null;
    }

    /// <summary>Seconds from the first trained step to the last.</summary>
    public double TrainingSeconds => Last.Seconds - (Samples.FirstOrDefault(s => s.Step > 0)?.Seconds ?? 0);
}

/// <summary>Runs a LowCommJob through the operator's local backend (real trainer processes) and records its status.</summary>
internal static class LocalJobRun
{
    /// <summary>Runs the job to its end, or until <paramref name="end"/> fires or ten minutes pass (then every replica is stopped gracefully).</summary>
    public static async Task<RunOutcome> RunAsync(
        LowCommJob job, Method method, ReplicaNetwork? network = null, Func<double, long, Task>? onTick = null, CancellationToken end = default)
    {
        string runDirectory = Directory.CreateTempSubdirectory("desloc-claims-").FullName;
        var options = new LocalRunOptions(runDirectory, runDirectory, TrainerCommand.Locate(null))
        {
            PollInterval = TimeSpan.FromMilliseconds(250),
            Network = network,
        };
        var recorder = new Recorder(onTick);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(end);
        stop.CancelAfter(TimeSpan.FromMinutes(10));
        LocalRunResult result = await LocalRunner.RunAsync(job, options, recorder, started: null, stop.Token);
        var heldOut = new List<double>();
        for (int rank = 0; rank < job.Spec.Replicas; rank++)
        {
            string log = Path.Combine(runDirectory, "logs", JobNames.Pod(job.Metadata.Name, rank, 0, job.Spec.WorkersPerReplica) + ".log");
            string? line = File.Exists(log) ? File.ReadLines(log).LastOrDefault(l => l.Contains("held-out loss", StringComparison.Ordinal)) : null;
            if (line is not null)
            {
                heldOut.Add(double.Parse(line[(line.LastIndexOf(' ') + 1)..].Trim(), CultureInfo.InvariantCulture));
            }
        }

        if ((result.Status.Phase != JobPhase.Succeeded && !result.Stopped) || recorder.Samples.Count == 0)
        {
            Console.Error.WriteLine($"{method.Name}: {result.Status.Phase} {result.Status.Message}; logs kept in {runDirectory}");
        }
        else
        {
            Directory.Delete(runDirectory, recursive: true);
        }

        return new RunOutcome(method, recorder.Samples, heldOut, result.Status.Phase, result.Elapsed);
    }

    /// <summary>Keeps every status the run loop shows (about four a second), timed from the start of the run.</summary>
    private sealed class Recorder(Func<double, long, Task>? onTick) : IProgressView
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();

        public List<Sample> Samples { get; } = [];

        public void OnEvent(JobEvent jobEvent)
        {
        }

        public async Task RefreshAsync(LowCommJob job, ReplicaLayout layout, JobCredentials credentials, IReadOnlyDictionary<int, int> running, CancellationToken cancellation)
        {
            double seconds = _clock.Elapsed.TotalSeconds;
            if (job.Status is { Step: { } step } status)
            {
                CommunicationStatus? comm = status.Communication;
                // Status bytes are the job's (summed over replicas); the tables report them per replica.
                int replicas = job.Spec.Replicas;
                Sample sample = new(seconds, step, status.Loss, (comm?.BytesSent ?? 0) / replicas, (comm?.DdpEquivalentBytes ?? 0) / replicas,
                    comm?.BandwidthBytesPerSecond, comm?.CommFraction, status.Sync?.Periods ?? new Dictionary<string, int>());
                if (Samples.Count == 0 || Samples[^1].Step != step || Samples[^1].BytesSent != sample.BytesSent)
                {
                    Samples.Add(sample);
                }
            }

            if (onTick is not null)
            {
                await onTick(seconds, job.Status?.Step ?? 0);
            }
        }
    }
}
