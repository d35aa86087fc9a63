using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DesLoc.Trainer.Models;
using TorchSharp.Modules;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DesLoc.Trainer.Tests.Models;

/// <summary>
/// The llama forward pass against llama_reference.py, an independent plain-PyTorch implementation of the Hugging Face
/// Llama equations (computed in float64), on the same seeded weights and tokens.
/// </summary>
[Collection("TorchSharp")]
public sealed class LlamaReferenceTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;
    private const double WeightStd = 0.2;

    private static readonly ModelSpec s_spec = new()
    {
        Type = ModelSpec.Llama, Layers = 2, Dim = 32, Heads = 4, KvHeads = 2, Context = 16, RopeTheta = 10000,
    };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Forward_MatchesThePyTorchReference(bool tied)
    {
        ModelSpec spec = s_spec with { TiedEmbeddings = tied };
        (float[] ours, float[] reference) = Compare(spec, rotaryInReference: true);

        double diff = MaxAbsDiff(ours, reference);
        output.WriteLine($"tied {tied}: max |diff| {diff:G3}, logits in [{ours.Min():G3}, {ours.Max():G3}]");
        Assert.True(diff <= Tolerance, $"max |diff| {diff.ToString("G3", CultureInfo.InvariantCulture)} > {Tolerance}");
        // The logits are not trivially alike: they spread well beyond the tolerance.
        Assert.True(ours.Max() - ours.Min() > 0.05, $"logits span only {ours.Max() - ours.Min()}");
    }

    /// <summary>The comparison can fail: the reference without rotary embeddings is far from our logits.</summary>
    [Fact]
    public void Forward_DiffersFromAReferenceWithoutRotaryEmbeddings()
    {
        (float[] ours, float[] reference) = Compare(s_spec, rotaryInReference: false);

        double diff = MaxAbsDiff(ours, reference);
        output.WriteLine($"rotary off in the reference: max |diff| {diff:G3}");
        Assert.True(diff > 100 * Tolerance, $"max |diff| {diff:G3}");
    }

    private static (float[] Ours, float[] Reference) Compare(ModelSpec spec, bool rotaryInReference)
    {
        const int Vocab = 32;
        string directory = Directory.CreateTempSubdirectory("desloc-llama-").FullName;
        try
        {
            using var scope = NewDisposeScope();
            random.manual_seed(11);
            using var model = new Llama(spec, Vocab);
            model.eval();
            // Larger weights than the N(0, 0.02) initialisation, whose near-uniform attention hides position (rotary
            // off moved the logits by under 1e-2), and random RMSNorm weights, so a norm that ignored its weight shows.
            using (no_grad())
            {
                foreach ((string name, Parameter parameter) in model.named_parameters())
                {
                    if (name.EndsWith("Norm._weight", StringComparison.Ordinal))
                    {
                        parameter.uniform_(0.5, 1.5);
                    }
                    else
                    {
                        nn.init.normal_(parameter, 0, WeightStd);
                    }
                }
            }

            Tensor tokens = randint(0, Vocab, [3, spec.Context], dtype: ScalarType.Int64);
            float[] ours;
            using (no_grad())
            {
                ours = model.call(tokens).data<float>().ToArray();
            }

            WriteInputs(directory, model, spec, Vocab, tokens, rotaryInReference);
            float[] reference = PyTorchReference.Logits("llama_reference.py", directory);
            Assert.Equal(ours.Length, reference.Length);
            return (ours, reference);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static void WriteInputs(string directory, Llama model, ModelSpec spec, int vocab, Tensor tokens, bool rotary)
    {
        var config = new JsonObject
        {
            ["vocab"] = vocab, ["dim"] = spec.Dim, ["heads"] = spec.Heads, ["kvHeads"] = spec.KvHeads ?? spec.Heads,
            ["layers"] = spec.Layers, ["ropeTheta"] = spec.RopeTheta, ["tied"] = spec.TiedEmbeddings, ["rotary"] = rotary,
        };
        File.WriteAllText(Path.Combine(directory, "config.json"), config.ToJsonString());
        var entries = new JsonArray();
        using var weights = File.Create(Path.Combine(directory, "weights.bin"));
        using var writer = new BinaryWriter(weights);
        foreach ((string name, Parameter parameter) in model.named_parameters())
        {
            entries.Add(new JsonObject { ["name"] = name, ["shape"] = new JsonArray([.. parameter.shape.Select(d => JsonValue.Create(d))]) });
            foreach (float value in parameter.data<float>())
            {
                writer.Write(value);
            }
        }

        File.WriteAllText(Path.Combine(directory, "weights.json"), entries.ToJsonString());
        long[] flat = tokens.data<long>().ToArray();
        long time = tokens.shape[1];
        long[][] rows = [.. Enumerable.Range(0, (int)tokens.shape[0]).Select(b => flat.Skip(b * (int)time).Take((int)time).ToArray())];
        File.WriteAllText(Path.Combine(directory, "tokens.json"), JsonSerializer.Serialize(rows));
    }

    private static double MaxAbsDiff(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs((double)x - y)).Max();
}
