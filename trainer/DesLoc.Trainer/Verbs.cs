using DesLoc.Contract.Wire;
using DesLoc.Trainer.Export;
using DesLoc.Trainer.Generation;
using DesLoc.Trainer.Tokenization;

namespace DesLoc.Trainer;

/// <summary>The trainer's verbs besides training: <c>export</c> a checkpoint's model, <c>generate</c> text with an exported one.</summary>
internal static class Verbs
{
    /// <summary>What <c>generate</c> was asked for.</summary>
    public sealed record GenerateRequest(string Model, string Prompt, int Tokens, SamplingSettings Sampling, int Seed);

    public static int Export(string checkpoint, long? step, string output, TextWriter stdout, TextWriter stderr) => Refusing(stderr, () =>
    {
        (long exported, string directory) = CheckpointExport.Run(checkpoint, step, output, message => stderr.WriteLine(message));
        stdout.WriteLine($"Exported the model of step {exported} to {directory} ({ModelExport.WeightsFile}, {ModelExport.ConfigFile}).");
        return 0;
    });

    public static int Generate(GenerateRequest request, TextWriter stdout, TextWriter stderr) => Refusing(stderr, () =>
    {
        using ExportedModel exported = LoadModel(request.Model);
        ITextTokenizer tokenizer = TextTokenizers.Create(exported.Tokenizer
            ?? throw new InvalidDataException($"{request.Model}: the model was trained on synthetic tokens; it has no text tokenizer to read a prompt with."));
        if (tokenizer.Vocab > exported.Vocab)
        {
            throw new InvalidDataException($"{request.Model}: tokenizer {tokenizer.Name} has {tokenizer.Vocab} tokens; the model only {exported.Vocab}.");
        }

        var prompt = new List<int>();
        tokenizer.Encode(request.Prompt, prompt);
        if (prompt.Count == 0)
        {
            prompt.Add(tokenizer.EndOfText ?? throw new ArgumentException($"--prompt: empty, and tokenizer {tokenizer.Name} has no start token; give some text."));
        }

        IReadOnlyList<int> generated = TextGeneration.Continue(exported.Model, exported.Spec.Context, prompt, request.Tokens, request.Sampling, new Random(request.Seed));
        stdout.Write(request.Prompt);
        stdout.WriteLine(tokenizer.Decode(generated));
        return 0;
    });

    /// <summary>An export directory (config.json and model.safetensors), or a checkpoint directory exported on the fly.</summary>
    internal static ExportedModel LoadModel(string directory)
    {
        if (File.Exists(Path.Combine(directory, ModelExport.ConfigFile)) || !Directory.Exists(directory))
        {
            return ModelExport.Read(directory);
        }

        string temporary = Directory.CreateTempSubdirectory("desloc-export-").FullName;
        try
        {
            CheckpointExport.Run(directory, null, temporary);
            return ModelExport.Read(temporary);
        }
        finally
        {
            Directory.Delete(temporary, recursive: true);
        }
    }

    /// <summary>Bad input (a missing or malformed file, an impossible argument) is one line on stderr and exit code 2.</summary>
    private static int Refusing(TextWriter stderr, Func<int> verb)
    {
        try
        {
            return verb();
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or System.Text.Json.JsonException or UnauthorizedAccessException)
        {
            stderr.WriteLine(e.Message);
            return TrainerExitCodes.ConfigurationError;
        }
    }
}
