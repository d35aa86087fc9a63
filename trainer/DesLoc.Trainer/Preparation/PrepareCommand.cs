using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using DesLoc.Contract.Wire;
using DesLoc.Trainer.Data;
using DesLoc.Trainer.Training;

namespace DesLoc.Trainer.Preparation;

/// <summary>
/// <c>desloc-trainer prepare --input PATH [--input PATH ...] --output DIR [--tokenizer gpt2|bytes] [--text-field text]
/// [--validation 0.1] [--shard-tokens N]</c>: a corpus to token shards for <c>data.shards</c>. Progress goes to stderr
/// (one updating line on a terminal, a line every few seconds otherwise), the summary to stdout.
/// </summary>
internal static class PrepareCommand
{
    private static readonly Option<string[]> s_input = new("--input")
    {
        Description = $"A corpus file ({string.Join(", ", Corpus.Kinds)}) or a directory of them, read in name order; repeat for more.",
        HelpName = "PATH",
        Required = true,
        AllowMultipleArgumentsPerToken = false,
    };

    private static readonly Option<string> s_output = new("--output")
    {
        Description = "The dataset's directory (new or empty): manifest.json and the shards. Point data.shards at it.",
        HelpName = "DIR",
        Required = true,
    };

    private static readonly Option<string> s_tokenizer = new("--tokenizer")
    {
        Description = "The tokenizer; the job's data.tokenizer must name the same.",
        HelpName = string.Join('|', TokenizerNames.All),
        DefaultValueFactory = _ => TokenizerNames.Gpt2,
    };

    private static readonly Option<string> s_textField = new("--text-field")
    {
        Description = "The text's field in a JSON line, or its column in a Parquet file.",
        HelpName = "NAME",
        DefaultValueFactory = _ => "text",
    };

    private static readonly Option<double> s_validation = new("--validation")
    {
        Description = "The fraction of the tokens, from the end of the stream, held out for evaluation.",
        HelpName = "FRACTION",
        DefaultValueFactory = _ => PrepareRequest.DefaultValidation,
    };

    private static readonly Option<long> s_shardTokens = new("--shard-tokens")
    {
        Description = "The most tokens in one shard file (2 bytes each).",
        HelpName = "N",
        DefaultValueFactory = _ => PrepareRequest.DefaultShardTokens,
    };

    public static Command Command { get; } = Build();

    private static Command Build()
    {
        var command = new Command("prepare", "Tokenize a corpus (.txt, .jsonl, .parquet) into token shards and a manifest.json for data.shards.")
        {
            s_input, s_output, s_tokenizer, s_textField, s_validation, s_shardTokens,
        };
        command.SetAction((parsed, cancellationToken) => RunAsync(
            new PrepareRequest(parsed.GetRequiredValue(s_input), parsed.GetRequiredValue(s_output), parsed.GetRequiredValue(s_tokenizer),
                parsed.GetRequiredValue(s_textField), parsed.GetValue(s_validation), parsed.GetValue(s_shardTokens)),
            cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(PrepareRequest request, CancellationToken cancellationToken)
    {
        var progress = new PrepareProgress();
        bool terminal = !Console.IsErrorRedirected;
        var clock = Stopwatch.StartNew();
        TimeSpan every = terminal ? TimeSpan.FromSeconds(0.5) : TimeSpan.FromSeconds(10);
        using var ticker = new Timer(_ => Report(progress, clock.Elapsed, terminal), null, every, every);
        try
        {
            PrepareResult result = await DatasetPreparer.RunAsync(request, progress, cancellationToken);
            await ticker.DisposeAsync();
            if (terminal)
            {
                await Console.Error.WriteLineAsync();
            }

            Console.WriteLine(Summary(result));
            return 0;
        }
        catch (PrepareException e)
        {
            await ticker.DisposeAsync();
            await Console.Error.WriteLineAsync($"{(terminal ? Environment.NewLine : "")}Nothing was prepared: {e.Message}");
            return TrainerExitCodes.ConfigurationError;
        }
    }

    private static string Count(long count, string noun) => string.Create(CultureInfo.InvariantCulture, $"{count:N0} {noun}{(count == 1 ? "" : "s")}");

    private static void Report(PrepareProgress progress, TimeSpan elapsed, bool terminal)
    {
        string line = string.Create(CultureInfo.InvariantCulture,
            $"{progress.Documents:N0} documents, {progress.Tokens:N0} tokens, {ByteFormat.Bytes(progress.TextBytes)} of text read, {progress.Tokens / Math.Max(elapsed.TotalSeconds, 1e-3):N0} tokens/s");
        Console.Error.Write(terminal ? $"\r{line}   " : line + Environment.NewLine);
    }

    /// <summary>The closing lines: what was read, what each split holds, where the manifest is.</summary>
    internal static string Summary(PrepareResult result)
    {
        ShardManifest manifest = result.Manifest;
        long total = result.TrainTokens + result.ValidationTokens;
        return string.Create(CultureInfo.InvariantCulture, $"""
            Prepared {Count(result.Documents, "document")} ({ByteFormat.Bytes(result.TextBytes)} of text) into {total:N0} {manifest.Tokenizer} tokens in {result.Elapsed.TotalSeconds:0.0} s ({total / Math.Max(result.Elapsed.TotalSeconds, 1e-3):N0} tokens/s).
              train       {result.TrainTokens,14:N0} tokens in {Count(manifest.Splits.Train.Count, "shard")}
              validation  {result.ValidationTokens,14:N0} tokens in {Count(manifest.Splits.Validation.Count, "shard")}
            Wrote {result.ManifestPath}: set data.shards to its directory and data.tokenizer to {manifest.Tokenizer}.
            """);
    }
}
