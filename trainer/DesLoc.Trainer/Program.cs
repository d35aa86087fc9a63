using System.CommandLine;
using System.Globalization;
using DesLoc.Contract.Wire;
using DesLoc.Sync.Accounting;
using DesLoc.Trainer.Configuration;
using DesLoc.Trainer.Data;
using DesLoc.Trainer.Distributed;
using DesLoc.Trainer.Training;

namespace DesLoc.Trainer;

/// <summary>
/// <c>desloc-trainer [--config spec.json] [--field.path value ...]</c>: trains the job's replicas in this
/// process and prints progress. Flags are the job spec's field paths (<c>--replicas 4 --algorithm.type DESLOC
/// --algorithm.desloc.kx 32 --training.steps 400</c>). <c>desloc-trainer prepare ...</c> tokenizes a corpus into
/// token shards instead (<see cref="Preparation.PrepareCommand"/>).
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        ParseResult command = TrainerCommandLine.Parse(args);
        if (TrainerCommandLine.RunsItsOwnAction(command))
        {
            return await command.InvokeAsync();
        }

        if (ReplicaEnvironment.IsPresent(Environment.GetEnvironmentVariable))
        {
            return await RunReplicaAsync(command);
        }

        JobSpec spec;
        InProcessJob job;
        try
        {
            spec = LoadSpec(command);
            Preflight.ThrowIfInvalid(spec);
            Preflight.ThrowIfTooLarge(spec, spec.Replicas * spec.WorkersPerReplica);
            TorchSharp.torch.set_num_threads(spec.Training.Threads);
            // Opens the data, which refuses a dataset that cannot be read, before any step.
            job = new InProcessJob(spec);
        }
        catch (ConfigurationException e)
        {
            await Console.Error.WriteLineAsync($"Invalid job spec, nothing was trained:{Environment.NewLine}{e.Message}");
            return TrainerExitCodes.ConfigurationError;
        }

        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };

        using var owned = job;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Training {spec.Replicas} replicas{(spec.WorkersPerReplica > 1 ? $" of {spec.WorkersPerReplica} workers" : "")} of a {job.Replicas[0].ParameterCount:N0}-parameter GPT with {spec.Algorithm.Type} for {spec.Training.Steps} steps on {TorchDevice()} ({TorchSharp.torch.get_num_threads()} intra-op threads)."));
        using var progress = new ProgressPrinter(job, spec);
        try
        {
            JobResult result = await job.RunAsync(stop.Token);
            await progress.StopAsync();
            PrintSummary(result);
            return 0;
        }
        catch (OperationCanceledException)
        {
            await progress.StopAsync();
            Console.WriteLine("Stopped.");
            return TrainerExitCodes.Interrupted;
        }
    }

    /// <summary>
    /// One replica of a job, configured by the operator's environment (DESLOC_*); flags still override spec fields.
    /// Why it stops, when it fails, goes to stderr and to the termination-message path, where the operator reads it.
    /// </summary>
    private static async Task<int> RunReplicaAsync(ParseResult command)
    {
        try
        {
            ReplicaEnvironment environment = ReplicaEnvironment.Read(Environment.GetEnvironmentVariable);
            string json = File.Exists(environment.ConfigPath)
                ? await File.ReadAllTextAsync(environment.ConfigPath)
                : throw new ConfigurationException($"{TrainerEnvironment.Config}: no file at '{environment.ConfigPath}'.");
            JobSpec spec = JobSpecLoader.Load(json, ReplicaOverrides(command));
            if (spec.Replicas != environment.WorldSize)
            {
                throw new ConfigurationException($"spec.replicas ({spec.Replicas}) must equal {TrainerEnvironment.WorldSize} ({environment.WorldSize}).");
            }

            if (spec.WorkersPerReplica != environment.WorkersPerReplica)
            {
                throw new ConfigurationException($"spec.workersPerReplica ({spec.WorkersPerReplica}) must equal {TrainerEnvironment.WorkersPerReplica} ({environment.WorkersPerReplica}).");
            }

            Preflight.ThrowIfInvalid(spec);
            Preflight.ThrowIfTooLarge(spec, workers: 1);
            // Opened here, before the servers start: a dataset that cannot be read is a configuration error (exit code 2).
            using ITokenSource data = TokenSources.Create(spec);
            return await ReplicaProcess.RunAsync(environment, spec, data);
        }
        catch (ConfigurationException e)
        {
            return await FailAsync($"Invalid job configuration, nothing was trained: {e.Message}", TrainerExitCodes.ConfigurationError);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await Console.Error.WriteLineAsync(e.ToString());
            return await FailAsync($"The trainer failed: {e.GetType().Name}: {e.Message}", 1);
        }
    }

    private static async Task<int> FailAsync(string message, int exitCode)
    {
        await Console.Error.WriteLineAsync(message);
        TerminationMessage.Write(message, Environment.GetEnvironmentVariable);
        return exitCode;
    }

    /// <summary>The spec a command line asks for: <c>--config</c>'s file, if any, with the field-path flags over it.</summary>
    internal static JobSpec ParseArguments(IReadOnlyList<string> args) => LoadSpec(TrainerCommandLine.Parse(args));

    private static JobSpec LoadSpec(ParseResult command)
    {
        (string? config, IReadOnlyList<KeyValuePair<string, string>> overrides) = TrainerCommandLine.Read(command);
        string? json = config is null ? null
            : File.Exists(config) ? File.ReadAllText(config)
            : throw new ConfigurationException($"--config: no file at '{config}'.");
        return JobSpecLoader.Load(json, overrides);
    }

    /// <summary>A replica's overrides: its spec comes from DESLOC_CONFIG, so --config is refused.</summary>
    internal static IReadOnlyList<KeyValuePair<string, string>> ReplicaOverrides(ParseResult command)
    {
        (string? config, IReadOnlyList<KeyValuePair<string, string>> overrides) = TrainerCommandLine.Read(command);
        return config is null ? overrides : throw new ConfigurationException("--config is not used by a replica process: the operator passes the spec in DESLOC_CONFIG.");
    }

    private static string TorchDevice() => Devices.Preferred().type.ToString().ToLowerInvariant();

    private static void PrintSummary(JobResult result)
    {
        // Replica 0's workers: the bytes it sent between replicas are their shards' together.
        LedgerSnapshot[] replica = [.. result.Ledgers.Take(result.Spec.WorkersPerReplica)];
        LedgerSnapshot ledger = replica[0];
        var text = CultureInfo.InvariantCulture;
        Console.WriteLine();
        Console.WriteLine(string.Create(text, $"Finished {result.Spec.Training.Steps} steps in {result.WallTime.TotalSeconds:0.0} s ({result.StepsPerSecond:0.00} steps/s, {result.TokensPerStep * result.StepsPerSecond:N0} tokens/s)."));
        string floor = result.EntropyFloor is { } f ? string.Create(text, $" (best possible {f:0.000}, gap {result.MeanEvalLoss - f:0.000})") : "";
        Console.WriteLine(string.Create(text, $"Held-out loss: {result.MeanEvalLoss:0.000}{floor}, perplexity {result.MeanEvalPerplexity:0.00}"));
        Console.WriteLine($"Bytes sent between replicas, per replica: {ByteFormat.Bytes(replica.Sum(w => w.TotalWireBytes))}; flat DDP would have sent {ByteFormat.Bytes(ledger.DdpEquivalentWireBytes)}: {ByteFormat.Factor(result.ReductionVsDdp)} less.");
        foreach (StateKind kind in Enum.GetValues<StateKind>().Where(k => replica.Sum(w => w.WireBytes[k]) > 0))
        {
            Console.WriteLine($"  {kind.Label(),-10} {ByteFormat.Bytes(replica.Sum(w => w.WireBytes[kind]))}");
        }

        if (result.Spec.WorkersPerReplica > 1)
        {
            Console.WriteLine($"Bytes sent inside the replica, per replica: {ByteFormat.Bytes(replica.Sum(w => w.TotalIntraWireBytes))}.");
        }

        Console.WriteLine(result.ExportDirectory is { } exported
            ? $"Model exported to {exported} (model.safetensors, config.json){(Export.ModelExport.TokenizerOf(result.Spec.Data) is null ? "" : $"; desloc-trainer generate --model {exported} --prompt TEXT continues a text")}."
            : "Model not exported: set --checkpoint.path DIR to write it to DIR/export.");
    }
}
