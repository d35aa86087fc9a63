using System.Diagnostics;
using DesLoc.Contract.Wire;
using DesLoc.Testing;
using DesLoc.Trainer.Configuration;

namespace DesLoc.Trainer.Tests.Configuration;

/// <summary>
/// desloc-trainer's command line: the field-path flags generated from the contract's spec records, through
/// <see cref="Program.ParseArguments"/> (the parse Main runs) and through the built executable itself.
/// </summary>
public sealed class TrainerCommandLineTests
{
    [Fact]
    public void ParseArguments_ConfigAndFieldPaths_FlagsOverrideTheFile()
    {
        string config = Path.GetTempFileName();
        try
        {
            File.WriteAllText(config, """{ "replicas": 2, "training": { "steps": 10, "batchSize": 4 } }""");

            JobSpec spec = Program.ParseArguments(["--config", config, "--training.steps", "50", "--algorithm.type", "DCTMomentum",
                "--algorithm.dct.topK=8", "--sync.adaptive.enabled", "true", "--data.synthetic.seed", "-3", "--model.vocab", "null"]);

            Assert.Equal((2, 50, 4), (spec.Replicas, spec.Training.Steps, spec.Training.BatchSize));
            Assert.Equal(AlgorithmType.DCTMomentum, spec.Algorithm.Type);
            Assert.Equal(8, spec.Algorithm.Dct.TopK);
            Assert.True(spec.Sync.Adaptive.Enabled);
            Assert.Equal(-3, spec.Data.Synthetic!.Seed);
            Assert.Null(spec.Model.Vocab);
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Theory]
    [InlineData("--training.steps abc", "--training.steps takes a whole number, not 'abc'.")]
    [InlineData("--training.learningRate fast", "--training.learningRate takes a number, not 'fast'.")]
    [InlineData("--sync.adaptive.enabled yes", "--sync.adaptive.enabled takes true or false, not 'yes'.")]
    [InlineData("--algorithm.type SGD", "--algorithm.type takes one of DDP, LocalAdam, DESLOC, DiLoCo, PALSGD, DCTMomentum, not 'SGD'.")]
    [InlineData("--training.stepz 5", "Unknown flag --training.stepz: not a field path of the job spec; did you mean --training.steps?")]
    [InlineData("--algorithm.dct topK", "Unknown flag --algorithm.dct:")]
    [InlineData("--training.steps 5 200", "Unexpected argument '200': flags look like --training.steps 200.")]
    [InlineData("--config", "--config")]
    public void ParseArguments_BadFlagOrValue_IsRefusedNamingTheFlag(string args, string message)
    {
        var error = Assert.Throws<ConfigurationException>(() => Program.ParseArguments(args.Split(' ')));

        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void ParseArguments_ValueOutOfRange_IsLeftToTheContractsValidator()
    {
        JobSpec spec = Program.ParseArguments(["--training.steps", "0"]);

        var error = Assert.Throws<ConfigurationException>(() => Preflight.ThrowIfInvalid(spec));
        Assert.Contains("training.steps", error.Message);
    }

    [Fact]
    public void ReplicaOverrides_Config_IsRefused()
    {
        var error = Assert.Throws<ConfigurationException>(() => Program.ReplicaOverrides(TrainerCommandLine.Parse(["--config", "spec.json"])));

        Assert.Contains("--config is not used by a replica process", error.Message);
        Assert.Equal(new[] { new KeyValuePair<string, string>("training.steps", "7") }, Program.ReplicaOverrides(TrainerCommandLine.Parse(["--training.steps", "7"])));
    }

    [Fact]
    public async Task Executable_Help_ListsEveryFieldPathWithItsType()
    {
        (int code, string output, string error) = await RunAsync("--help");

        Assert.True(code == 0, error);
        Assert.Contains("--config <spec.json>", output);
        Assert.Contains("--algorithm.dct.topK <int>", output);
        Assert.Contains("--algorithm.type <DDP|LocalAdam|DESLOC|DiLoCo|PALSGD|DCTMomentum>", output);
        Assert.Contains("--faultTolerance.backoff.initialSeconds <int>", output);
        Assert.Contains("--training.learningRate <number>", output);
        Assert.Contains("--sync.adaptive.enabled <true|false>", output);
        Assert.Contains("--transport.dataPlane <socket|grpc>", output);
        Assert.All(TrainerCommandLine.Fields, field => Assert.Contains($"--{field.Path} <", output));
        Assert.True(TrainerCommandLine.Fields.Count >= 60, $"{TrainerCommandLine.Fields.Count} field paths");
    }

    [Fact]
    public async Task Executable_TrainingThreads_SetTheIntraOpThreads()
    {
        (int code, string output, string error) = await RunAsync("--replicas", "1", "--training.steps", "2", "--training.evalBatches", "0", "--training.threads", "2");

        Assert.True(code == 0, error);
        Assert.Contains("(2 intra-op threads)", output);
    }

    [Theory]
    [InlineData("--training.steps", "many", "--training.steps takes a whole number, not 'many'.")]
    [InlineData("--algorithm.desloc.kz", "8", "Unknown flag --algorithm.desloc.kz")]
    public async Task Executable_BadFlag_Exits2NamingItWithoutAStackTrace(string flag, string value, string message)
    {
        (int code, string output, string error) = await RunAsync(flag, value);

        Assert.Equal(TrainerExitCodes.ConfigurationError, code);
        Assert.Contains(message, error);
        Assert.DoesNotContain("   at ", error);
        Assert.Empty(output);
    }

    /// <summary>
    /// Training on a slice of Tiny Shakespeare with a checkpoint path exports the model; generate continues a prompt
    /// with it, the same text for the same seed; the verbs refuse a missing directory by name, with exit code 2.
    /// </summary>
    [Fact]
    public async Task Executable_TrainExportsTheModel_GenerateContinuesAPrompt_VerbsRefuseMissingDirectories()
    {
        string corpus = RepositoryFiles.Path("..", "shared", "data", "tinyshakespeare.txt");
        Assert.True(File.Exists(corpus), $"The test corpus is missing: {corpus} (the shared data folder beside the repository).");
        string directory = Directory.CreateTempSubdirectory("desloc-cli-").FullName;
        try
        {
            string slice = Path.Combine(directory, "slice.txt");
            File.WriteAllText(slice, File.ReadAllText(corpus)[..20_000]);
            string checkpoints = Path.Combine(directory, "checkpoints");

            (int trained, string trainOutput, string trainError) = await RunAsync("--replicas", "1", "--training.steps", "4", "--training.evalEverySteps", "2",
                "--training.evalBatches", "1", "--training.batchSize", "4", "--model.type", "llama", "--model.layers", "1", "--model.dim", "32",
                "--model.context", "32", "--data.path", slice, "--checkpoint.path", checkpoints);
            string export = Path.Combine(checkpoints, "export");
            string[] generate = ["generate", "--model", export, "--prompt", "ROMEO:", "--tokens", "12", "--seed", "7"];
            (int generated, string text, string generateError) = await RunAsync(generate);
            (_, string again, _) = await RunAsync(generate);
            (int missingModel, _, string missingModelError) = await RunAsync("generate", "--model", Path.Combine(directory, "none"), "--prompt", "x");
            (int missingCheckpoint, _, string missingCheckpointError) = await RunAsync("export", "--checkpoint", Path.Combine(directory, "none"), "--output", Path.Combine(directory, "out"));

            Assert.True(trained == 0, trainError);
            Assert.Contains("step      2/4 | held-out loss", trainOutput);
            Assert.Contains($"Model exported to {export}", trainOutput);
            Assert.True(File.Exists(Path.Combine(export, "model.safetensors")));
            Assert.True(generated == 0, generateError);
            Assert.StartsWith("ROMEO:", text);
            Assert.Equal(text, again);
            Assert.Equal(TrainerExitCodes.ConfigurationError, missingModel);
            Assert.Contains(Path.Combine(directory, "none", "config.json"), missingModelError);
            Assert.Equal(TrainerExitCodes.ConfigurationError, missingCheckpoint);
            Assert.Contains("no manifest.json", missingCheckpointError);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Executable_Prepare_WritesTheDataset_AndTheFieldPathFlagsStillTrainOnIt()
    {
        DirectoryInfo root = Directory.CreateTempSubdirectory("desloc-prepare-");
        try
        {
            string corpus = Path.Combine(root.FullName, "book.txt");
            await File.WriteAllTextAsync(corpus, string.Concat(Enumerable.Repeat("To be, or not to be, that is the question. ", 60)));
            string dataset = Path.Combine(root.FullName, "book");

            (int code, string output, string error) = await RunAsync("prepare", "--input", corpus, "--output", dataset, "--tokenizer", "bytes", "--validation", "0.2");

            Assert.True(code == 0, error);
            Assert.Contains("Prepared 1 document (2.58 KB of text) into 2,580 bytes tokens", output);
            Assert.Contains($"Wrote {Path.Combine(dataset, "manifest.json")}", output);
            (code, output, error) = await RunAsync("--replicas", "2", "--data.shards", dataset, "--data.tokenizer", "bytes", "--model.context", "16",
                "--training.steps", "2", "--training.batchSize", "2", "--training.evalBatches", "1");
            Assert.True(code == 0, error);
            Assert.Contains("Held-out loss:", output);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Executable_Prepare_WithoutInput_FailsNamingTheOption()
    {
        (int code, _, string error) = await RunAsync("prepare", "--output", "unused");

        Assert.NotEqual(0, code);
        Assert.Contains("Option '--input' is required.", error);
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "desloc-trainer.dll"));
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment.Remove(TrainerEnvironment.Rank);
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }
}
