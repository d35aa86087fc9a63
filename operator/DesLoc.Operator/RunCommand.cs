using System.CommandLine;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Local;
using Spectre.Console;

namespace DesLoc.Operator;

/// <summary>`run FILE`: load and check the manifest, run it locally with a live display, print a summary.</summary>
internal static class RunCommand
{
    private static readonly Argument<string> s_file = new("FILE")
    {
        Description = "The LowCommJob manifest (YAML).",
    };

    private static readonly Option<string> s_trainer = new("--trainer")
    {
        Description = $"The trainer executable or desloc-trainer.dll (default: ${TrainerCommand.Variable}, else the one built beside this operator).",
        HelpName = "PATH",
    };

    private static readonly Option<string> s_runDirectory = new("--run-dir")
    {
        Description = "Where the replicas' logs and checkpoints go (default: .desloc/NAME); a stopped run there is resumed.",
        HelpName = "DIR",
    };

    public static Command Command { get; } = Build();

    /// <summary>What `run` was asked for.</summary>
    public sealed record Settings(string File, string? TrainerPath, string? RunDirectory);

    public static Settings Read(ParseResult parsed) =>
        new(parsed.GetRequiredValue(s_file), parsed.GetValue(s_trainer), parsed.GetValue(s_runDirectory));

    private static Command Build()
    {
        var command = new Command("run", "Run the job on this machine, its replicas as trainer processes, with a live progress display.")
        {
            s_file, s_trainer, s_runDirectory,
        };
        command.SetAction((parsed, _) => RunAsync(Read(parsed)));
        return command;
    }

    public static async Task<int> RunAsync(Settings settings)
    {
        (string file, string? trainerPath, string? runDirectoryFlag) = settings;
        LowCommJob job;
        TrainerCommand trainer;
        try
        {
            job = ManifestLoader.Load(file);
            trainer = TrainerCommand.Locate(trainerPath);
        }
        catch (Exception e) when (e is ManifestException or FileNotFoundException)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return 2;
        }

        string runDirectory = Path.GetFullPath(runDirectoryFlag ?? Path.Combine(".desloc", job.Metadata.Name));
        bool resuming = PrepareRunDirectory(runDirectory);
        // Relative paths in the spec (data.path, data.shards) resolve against the directory run is started in.
        string workingDirectory = Directory.GetCurrentDirectory();
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true; // stop the replicas gracefully: each writes a checkpoint
            stop.Cancel();
        };

        IAnsiConsole console = AnsiConsole.Console;
        string workers = job.Spec.WorkersPerReplica > 1 ? $" of {job.Spec.WorkersPerReplica} workers" : "";
        console.MarkupLineInterpolated($"Running [bold]{job.Metadata.Name}[/]: {job.Spec.Replicas} replicas{workers}, {job.Spec.Algorithm.Type}, {job.Spec.Training.Steps} steps. Ctrl+C stops (and checkpoints).");
        if (resuming)
        {
            console.MarkupLineInterpolated($"Resuming the stopped run in {runDirectory} from its checkpoints (delete that directory to start over).");
        }

        using var display = new ProgressDisplay(console);
        var runOptions = new LocalRunOptions(runDirectory, workingDirectory, trainer);
        LocalRunResult result = await display.RunAsync(() => LocalRunner.RunAsync(job, runOptions, display, started: null, stop.Token));
        await File.WriteAllTextAsync(Path.Combine(runDirectory, StateFile), result.Stopped ? "stopped" : result.Status.Phase.ToString());
        display.PrintSummary(job, result, runDirectory, LocalLayout.ExportDirectory(runDirectory));
        return result.Stopped ? 130 : result.Status.Phase == JobPhase.Succeeded ? 0 : 1;
    }

    private const string StateFile = "state";

    /// <summary>A stopped run is resumed from its checkpoints; a finished one is cleared so the job starts again.</summary>
    private static bool PrepareRunDirectory(string runDirectory)
    {
        string state = Path.Combine(runDirectory, StateFile);
        if (File.Exists(state) && File.ReadAllText(state).Trim() == "stopped")
        {
            return true;
        }

        if (Directory.Exists(runDirectory))
        {
            Directory.Delete(runDirectory, recursive: true);
        }

        Directory.CreateDirectory(runDirectory);
        return false;
    }
}
