using System.Diagnostics;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Local;
using DesLoc.Operator.Reconciliation;
using DesLoc.Testing;
using Spectre.Console;

namespace DesLoc.Operator.Tests.Local;

/// <summary>`run FILE`: the reconciler over real trainer processes on loopback.</summary>
[Collection("TrainerProcesses")]
public sealed class LocalRunTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task Quickstart_RunsToTheEnd_AndAReplicaKilledMidRunIsRestartedAndHeals()
    {
        LowCommJob job = ManifestLoader.Load(RepositoryFiles.Path("samples", "quickstart.yaml"));
        string runDirectory = Directory.CreateTempSubdirectory("desloc-run-").FullName;
        var options = new LocalRunOptions(runDirectory, RepositoryFiles.Path("samples"), TrainerCommand.Locate(null));
        int killedPid = 0;
        Task? killer = null;
        void Started(LocalCluster cluster) => killer = Task.Run(async () =>
        {
            await LocalJobs.StepReachedAsync(cluster, 120);

            killedPid = cluster.RunningProcesses()[2];
            using Process victim = Process.GetProcessById(killedPid);
            victim.Kill(); // SIGKILL: no checkpoint, no goodbye
        });

        using var timeout = new CancellationTokenSource(s_timeout);
        LocalRunResult result = await LocalRunner.RunAsync(job, options, view: null, Started, timeout.Token);
        await killer!;

        string log = await File.ReadAllTextAsync(Path.Combine(runDirectory, "logs", "quickstart-2.log"));
        Assert.False(result.Stopped, "the run timed out");
        Assert.True(result.Status.Phase == JobPhase.Succeeded, $"{result.Status.Phase}: {result.Status.Message}{Environment.NewLine}{log}");
        Assert.NotEqual(0, killedPid);
        Assert.Equal(1, result.Status.Restarts);
        Assert.Equal(1, result.Status.Replicas[2].Restarts);
        Assert.Equal(137, result.Status.Replicas[2].LastExitCode);
        Assert.All(new[] { 0, 1, 3 }, i => Assert.Equal(0, result.Status.Replicas[i].Restarts));
        Assert.Contains(result.Events, e => e.Reason == "ReplicaFailed" && e.Message.Contains("code 137", StringComparison.Ordinal));
        Assert.Contains(result.Events, e => e.Reason == "ReplicaRestarted");
        Assert.Matches("Healed rank 2 from rank [013]", log);
        Assert.Equal(job.Spec.Training.Steps, result.Status.Step);
        Assert.True(result.Status.Communication!.Reduction > 5, $"reduction vs DDP {result.Status.Communication.Reduction}");
        // training.evalEverySteps 100: rank 0's held-out loss reaches the status; rank 0 exports the model at the end.
        Assert.True(result.Status.EvalStep >= 100 && result.Status.EvalLoss > 0, $"held-out loss {result.Status.EvalLoss} at step {result.Status.EvalStep}");
        Assert.True(File.Exists(Path.Combine(LocalLayout.ExportDirectory(runDirectory), "model.safetensors")), "no export under the run's checkpoints");
        Directory.Delete(runDirectory, recursive: true);
    }

    [Fact]
    public async Task Cancelling_StopsEveryReplicaGracefully_EachLeavesACheckpoint_AndARerunResumesFromThem()
    {
        LowCommJob job = LocalJobs.Parse("stoppable", 2, """
          training:
            steps: 100000
          algorithm:
            type: DiLoCo
            diloco:
              period: 8
        """);
        string runDirectory = Directory.CreateTempSubdirectory("desloc-stop-").FullName;
        var options = new LocalRunOptions(runDirectory, runDirectory, TrainerCommand.Locate(null));
        using var stop = new CancellationTokenSource(s_timeout);
        Task? stopper = null;
        LocalCluster? running = null;
        void Started(LocalCluster cluster)
        {
            running = cluster;
            stopper = Task.Run(async () =>
            {
                await LocalJobs.StepReachedAsync(cluster, 40);

                await stop.CancelAsync(); // what Ctrl+C does
            });
        }

        LocalRunResult result = await LocalRunner.RunAsync(job, options, view: null, Started, stop.Token);
        await stopper!;

        Assert.True(result.Stopped);
        Assert.False(running!.AnyProcessRunning());
        foreach (int rank in new[] { 0, 1 })
        {
            string log = await File.ReadAllTextAsync(Path.Combine(runDirectory, "logs", $"{JobNames.Pod("stoppable", rank)}.log"));
            Assert.Contains($"Stopping rank {rank} at step", log);
            Assert.NotEmpty(Directory.EnumerateFileSystemEntries(Path.Combine(runDirectory, "checkpoints", $"rank-{rank}")));
        }

        // Run again in the same directory: every replica resumes from its checkpoint instead of starting over.
        using var again = new CancellationTokenSource(s_timeout);
        Task? second = null;
        void Resumed(LocalCluster cluster) => second = Task.Run(async () =>
        {
            await LocalJobs.StepReachedAsync(cluster, (result.Status.Step ?? 0) + 1);

            await again.CancelAsync();
        });
        LocalRunResult resumed = await LocalRunner.RunAsync(job, options, view: null, Resumed, again.Token);
        await second!;
        Assert.True(resumed.Stopped);
        foreach (int rank in new[] { 0, 1 })
        {
            string log = await File.ReadAllTextAsync(Path.Combine(runDirectory, "logs", $"{JobNames.Pod("stoppable", rank)}.log"));
            Assert.Matches($"Resumed rank {rank} from its checkpoint of step [1-9][0-9]*", log);
        }

        Directory.Delete(runDirectory, recursive: true);
    }

    [Fact]
    public async Task AdaptiveSync_OnlyLengthensThePeriodsOfARealJob_WhenCommunicationCostsMoreThanTheTarget()
    {
        LowCommJob job = LocalJobs.Parse("adaptive", 2, JobSpecs.AdaptiveTargetOutOfReach);
        string runDirectory = Directory.CreateTempSubdirectory("desloc-adaptive-").FullName;
        var options = new LocalRunOptions(runDirectory, runDirectory, TrainerCommand.Locate(null));
        using var timeout = new CancellationTokenSource(s_timeout);

        LocalRunResult result = await LocalRunner.RunAsync(job, options, view: null, started: null, timeout.Token);

        Assert.Equal(JobPhase.Succeeded, result.Status.Phase);
        string[] changes = [.. result.Events.Where(e => e.Reason == "SyncPeriodsChanged").Select(e => e.Message)];
        string trace = string.Join(Environment.NewLine, changes);
        Assert.True(changes.Length >= 1, trace);
        Assert.StartsWith("Sync periods {m1: 12, m2: 24, params: 4} -> {m1: 24, m2: 48, params: 8}", changes[0], StringComparison.Ordinal);
        // Never shorter: the target cannot be reached, so the controller may only lengthen, and by at most 2x a change.
        Assert.All(changes, c => Assert.Contains("above target", c));
        SyncStatus sync = result.Status.Sync!;
        Assert.True(sync.Changes >= 1);
        Assert.True(sync.Periods["params"] > 4, $"periods {string.Join(", ", sync.Periods)}");
        Assert.Equal(3 * sync.Periods["params"], sync.Periods["m1"]);
        Assert.InRange(sync.Periods["params"], 4, 16);
        Directory.Delete(runDirectory, recursive: true);
    }

    /// <summary>
    /// A job the CRD accepts but no replica can train (its data file is missing): `run` fails it at once, counts no
    /// restart, and its summary says what the trainer said, not only "exited with code 2".
    /// </summary>
    [Fact]
    public async Task ConfigurationErrorOfTheTrainer_FailsTheRunWithItsReasonInTheSummary_AndCountsNoRestart()
    {
        LowCommJob job = LocalJobs.Parse("missing-data", 2, "  data: {path: /nonexistent/book.txt}");
        string runDirectory = Directory.CreateTempSubdirectory("desloc-missing-data-").FullName;
        var options = new LocalRunOptions(runDirectory, runDirectory, TrainerCommand.Locate(null));
        using var timeout = new CancellationTokenSource(s_timeout);

        LocalRunResult result = await LocalRunner.RunAsync(job, options, view: null, started: null, timeout.Token);
        var output = new StringWriter();
        using (var display = new ProgressDisplay(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No })))
        {
            display.PrintSummary(job, result, runDirectory);
        }

        Assert.Equal(JobPhase.Failed, result.Status.Phase);
        Assert.Equal(0, result.Status.Restarts);
        Assert.Contains("spec.data.path: no file at '/nonexistent/book.txt'", result.Status.Message);
        Assert.Contains(result.Events, e => e.Type == "Warning" && e.Message.Contains("no file at", StringComparison.Ordinal));
        string summary = string.Join(" ", output.ToString().Split((char[])['\n', '│', ' '], StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("no file at '/nonexistent/book.txt'", summary);
        Directory.Delete(runDirectory, recursive: true);
    }
}
