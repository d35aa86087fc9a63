using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DesLoc.Trainer.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DesLoc.Trainer.Export;

/// <summary>A model read back from an export: its spec, vocabulary, tokenizer (null for synthetic tokens) and weights.</summary>
internal sealed record ExportedModel(ModelSpec Spec, int Vocab, string? Tokenizer, nn.Module<Tensor, Tensor> Model) : IDisposable
{
    public void Dispose() => Model.Dispose();
}

/// <summary>
/// A trained model as a directory Hugging Face transformers loads: <c>model.safetensors</c> (float32, transformers'
/// tensor names, see <see cref="HuggingFaceLayout"/>) and <c>config.json</c> (transformers' fields, plus a
/// <c>desloc</c> section with our model spec and the tokenizer, so <c>generate</c> rebuilds the exact model). The
/// tokenizer's name and vocabulary are also in the safetensors metadata.
/// </summary>
internal static class ModelExport
{
    public const string WeightsFile = "model.safetensors";
    public const string ConfigFile = "config.json";

    /// <summary>Where a job's export goes: <c>export/</c> under its checkpoint directory.</summary>
    public static string DirectoryUnder(string checkpointRoot) => Path.Combine(checkpointRoot, CheckpointSpec.ExportDirectoryName);

    /// <summary>
    /// The text tokenizer the data's tokens come from: a prepared dataset's (<c>data.tokenizer</c>, checked against its
    /// manifest before training), a text file's UTF-8 bytes; synthetic Markov tokens have none (<c>generate</c> then
    /// refuses the model).
    /// </summary>
    public static string? TokenizerOf(DataSpec data) =>
        data.Shards is not null ? data.Tokenizer : data.Path is not null ? TokenizerNames.Bytes : null;

    /// <summary>Writes <paramref name="model"/> (built from <paramref name="spec"/>, float32) into <paramref name="directory"/>; returns the directory.</summary>
    public static string Write(nn.Module<Tensor, Tensor> model, JobSpec spec, string directory) =>
        Write(model.named_parameters().Select(p => (p.name, (Tensor)p.parameter)), spec, directory);

    /// <summary>
    /// Writes a model's weights, by the module's parameter names, into <paramref name="directory"/> as float32; with bf16
    /// training these are the float32 master weights (<see cref="Training.ReplicaTrainer.NamedWeights"/>), not the
    /// model's rounded copy. Returns the directory.
    /// </summary>
    public static string Write(IEnumerable<(string Name, Tensor Weight)> weights, JobSpec spec, string directory)
    {
        Directory.CreateDirectory(directory);
        var tensors = new List<NamedTensor>();
        int vocab = 0;
        foreach ((string name, Tensor parameter) in weights)
        {
            float[] values;
            using (NewDisposeScope())
            {
                values = parameter.detach().cpu().to(ScalarType.Float32).contiguous().data<float>().ToArray();
            }

            vocab = name == "_tokenEmbedding.weight" ? (int)parameter.shape[0] : vocab;
            (string hfName, bool transposed) = HuggingFaceLayout.NameOf(spec.Model.Type, name);
            var tensor = new NamedTensor(hfName, [.. parameter.shape], values);
            tensors.Add(transposed ? tensor.Transposed() : tensor);
        }

        string? tokenizer = TokenizerOf(spec.Data);
        JsonObject config = HuggingFaceLayout.Config(spec.Model, vocab);
        config["desloc"] = new JsonObject
        {
            ["model"] = JsonSerializer.SerializeToNode(spec.Model, JobSpecJson.Options),
            ["tokenizer"] = tokenizer,
            ["vocab"] = vocab,
        };
        File.WriteAllText(Path.Combine(directory, ConfigFile), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["model_type"] = spec.Model.Type,
            ["tokenizer"] = tokenizer ?? "none",
            ["vocab_size"] = vocab.ToString(CultureInfo.InvariantCulture),
        };
        SafeTensors.Write(Path.Combine(directory, WeightsFile), tensors, metadata);
        return directory;
    }

    /// <summary>Reads an export written by <c>Write</c>; a missing file, field or tensor is refused by name.</summary>
    public static ExportedModel Read(string directory)
    {
        string configPath = Path.Combine(directory, ConfigFile);
        string weightsPath = Path.Combine(directory, WeightsFile);
        foreach (string path in (string[])[configPath, weightsPath])
        {
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"{path}: no such file; an export directory holds {ConfigFile} and {WeightsFile}.", path);
            }
        }

        JsonNode desloc = JsonNode.Parse(File.ReadAllText(configPath))?["desloc"]
            ?? throw new InvalidDataException($"{configPath}: no 'desloc' section (model spec and tokenizer); was it written by desloc-trainer?");
        ModelSpec spec = desloc["model"].Deserialize<ModelSpec>(JobSpecJson.Options)
            ?? throw new InvalidDataException($"{configPath}: desloc.model is missing.");
        int vocab = desloc["vocab"]?.GetValue<int>() ?? throw new InvalidDataException($"{configPath}: desloc.vocab is missing.");
        string? tokenizer = desloc["tokenizer"]?.GetValue<string>();

        Dictionary<string, NamedTensor> tensors = SafeTensors.Read(weightsPath).Tensors.ToDictionary(t => t.Name);
        nn.Module<Tensor, Tensor> model = LanguageModels.Create(spec, vocab);
        try
        {
            using (no_grad())
            {
                foreach ((string name, Parameter parameter) in model.named_parameters())
                {
                    (string hfName, bool transposed) = HuggingFaceLayout.NameOf(spec.Type, name);
                    NamedTensor stored = tensors.Remove(hfName, out NamedTensor? found) ? found
                        : throw new InvalidDataException($"{weightsPath}: no tensor {hfName}.");
                    NamedTensor ours = transposed ? stored.Transposed() : stored;
                    if (!ours.Shape.SequenceEqual(parameter.shape))
                    {
                        throw new InvalidDataException($"{weightsPath}: tensor {hfName} has shape [{string.Join(", ", stored.Shape)}]; the model in {ConfigFile} needs [{string.Join(", ", parameter.shape)}].");
                    }

                    // A scope per copy: the in-place op's result wrapper goes with it (the parameter predates it).
                    using var scope = NewDisposeScope();
                    parameter.copy_(tensor(ours.Values, ours.Shape));
                }
            }

            if (tensors.Count > 0)
            {
                throw new InvalidDataException($"{weightsPath}: tensors {string.Join(", ", tensors.Keys)} belong to no parameter of the model in {ConfigFile}.");
            }
        }
        catch
        {
            model.Dispose();
            throw;
        }

        model.eval();
        return new ExportedModel(spec, vocab, tokenizer, model);
    }
}
