using System.Globalization;
using System.Text.Json;
using DesLoc.Trainer.Export;
using DesLoc.Trainer.Models;
using TorchSharp.Modules;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DesLoc.Trainer.Tests.Models;

/// <summary>
/// An export read the way Hugging Face transformers reads it: hf_export_reference.py parses model.safetensors by hand
/// and builds the model from transformers' tensor names and config fields alone (PyTorch, float64); its logits must
/// be TorchSharp's on the same tokens.
/// </summary>
[Collection("TorchSharp")]
public sealed class HuggingFaceExportTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;
    private const int Vocab = 40;

    public static TheoryData<string, bool> Models => new()
    {
        { ModelSpec.Llama, false },
        { ModelSpec.Llama, true },
        { ModelSpec.Gpt, false },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void Export_LoadedByTransformersNamesInPyTorch_GivesTorchSharpsLogits(string type, bool tied)
    {
        var spec = new JobSpec
        {
            Model = new ModelSpec { Type = type, Layers = 2, Dim = 32, Heads = 4, KvHeads = type == ModelSpec.Llama ? 2 : null, TiedEmbeddings = tied, Context = 12, RopeTheta = 500 },
            Data = new DataSpec { Path = "corpus.txt" },
        };
        string directory = Directory.CreateTempSubdirectory("desloc-hf-").FullName;
        try
        {
            using var scope = NewDisposeScope();
            random.manual_seed(5);
            using nn.Module<Tensor, Tensor> model = LanguageModels.Create(spec.Model, Vocab);
            Randomize(model);
            Tensor tokens = randint(0, Vocab, [2, spec.Model.Context], dtype: ScalarType.Int64);
            float[] ours;
            using (no_grad())
            {
                model.eval();
                ours = model.call(tokens).data<float>().ToArray();
            }

            ModelExport.Write(model, spec, directory);
            long[] flat = tokens.data<long>().ToArray();
            File.WriteAllText(Path.Combine(directory, "tokens.json"), JsonSerializer.Serialize(flat.Chunk(spec.Model.Context)));
            float[] reference = PyTorchReference.Logits("hf_export_reference.py", directory);

            Assert.Equal(ours.Length, reference.Length);
            double diff = ours.Zip(reference, (a, b) => Math.Abs((double)a - b)).Max();
            output.WriteLine($"{type} tied {tied}: max |diff| {diff:G3}, logits in [{ours.Min():G3}, {ours.Max():G3}]");
            Assert.True(diff <= Tolerance, $"max |diff| {diff.ToString("G3", CultureInfo.InvariantCulture)} > {Tolerance}");
            Assert.True(ours.Max() - ours.Min() > 0.05, $"logits span only {ours.Max() - ours.Min()}");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Export_NamesAndConfig_AreTransformers()
    {
        var spec = new JobSpec { Model = new ModelSpec { Type = ModelSpec.Llama, Layers = 1, Dim = 32, Heads = 4, KvHeads = 1, TiedEmbeddings = true, Context = 8 }, Data = new DataSpec { Path = "x.txt" } };
        string directory = Directory.CreateTempSubdirectory("desloc-hf-").FullName;
        try
        {
            using nn.Module<Tensor, Tensor> model = LanguageModels.Create(spec.Model, Vocab);
            ModelExport.Write(model, spec, directory);

            (IReadOnlyList<NamedTensor> tensors, IReadOnlyDictionary<string, string> metadata) = SafeTensors.Read(Path.Combine(directory, ModelExport.WeightsFile));
            string[] expected =
            [
                "model.embed_tokens.weight", "model.layers.0.input_layernorm.weight", "model.layers.0.self_attn.q_proj.weight",
                "model.layers.0.self_attn.k_proj.weight", "model.layers.0.self_attn.v_proj.weight", "model.layers.0.self_attn.o_proj.weight",
                "model.layers.0.post_attention_layernorm.weight", "model.layers.0.mlp.gate_proj.weight", "model.layers.0.mlp.up_proj.weight",
                "model.layers.0.mlp.down_proj.weight", "model.norm.weight",
            ];
            Assert.Equal(expected.Order(), tensors.Select(t => t.Name).Order());
            Assert.Equal([8L, 32L], tensors.Single(t => t.Name == "model.layers.0.self_attn.k_proj.weight").Shape);
            Assert.Equal("bytes", metadata["tokenizer"]);
            using JsonDocument config = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, ModelExport.ConfigFile)));
            JsonElement root = config.RootElement;
            Assert.Equal("LlamaForCausalLM", root.GetProperty("architectures")[0].GetString());
            Assert.Equal("llama", root.GetProperty("model_type").GetString());
            Assert.Equal((32, 96, 4, 1, 1, 8, Vocab), (root.GetProperty("hidden_size").GetInt32(), root.GetProperty("intermediate_size").GetInt32(),
                root.GetProperty("num_attention_heads").GetInt32(), root.GetProperty("num_key_value_heads").GetInt32(), root.GetProperty("num_hidden_layers").GetInt32(),
                root.GetProperty("max_position_embeddings").GetInt32(), root.GetProperty("vocab_size").GetInt32()));
            Assert.True(root.GetProperty("tie_word_embeddings").GetBoolean());
            Assert.Equal("float32", root.GetProperty("torch_dtype").GetString());
            Assert.Equal("bytes", root.GetProperty("desloc").GetProperty("tokenizer").GetString());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Weights larger than the N(0, 0.02) initialisation and norms away from 1, so every term shows in the logits.</summary>
    private static void Randomize(nn.Module<Tensor, Tensor> model)
    {
        using var noGrad = no_grad();
        foreach ((string name, Parameter parameter) in model.named_parameters())
        {
            if (name.Contains("Norm", StringComparison.Ordinal) && name.EndsWith("weight", StringComparison.Ordinal))
            {
                parameter.uniform_(0.5, 1.5);
            }
            else
            {
                nn.init.normal_(parameter, 0, 0.2);
            }
        }
    }
}
