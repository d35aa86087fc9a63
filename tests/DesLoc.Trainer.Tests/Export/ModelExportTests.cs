using DesLoc.Sync.Algorithms;
using DesLoc.Trainer.Checkpoints;
using DesLoc.Trainer.Data;
using DesLoc.Trainer.Export;
using DesLoc.Trainer.Models;
using DesLoc.Trainer.Training;
using DesLoc.Transport.Collectives;
using static TorchSharp.torch;

namespace DesLoc.Trainer.Tests.Export;

/// <summary>An export read back is the same model; a checkpoint directory, with the spec stored beside it, exports alone.</summary>
[Collection("TorchSharp")]
public sealed class ModelExportTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("desloc-export-").FullName;

    [Theory]
    [InlineData(ModelSpec.Llama, true)]
    [InlineData(ModelSpec.Llama, false)]
    [InlineData(ModelSpec.Gpt, false)]
    public void Read_OfAnExport_GivesTheSameLogits(string type, bool tied)
    {
        var spec = new JobSpec { Model = new ModelSpec { Type = type, Layers = 2, Dim = 16, Heads = 2, TiedEmbeddings = tied, Context = 8 }, Data = new DataSpec { Path = "x.txt" } };
        random.manual_seed(3);
        using nn.Module<Tensor, Tensor> model = LanguageModels.Create(spec.Model, 256);

        ModelExport.Write(model, spec, _directory);
        using ExportedModel read = ModelExport.Read(_directory);

        Assert.Equal(spec.Model, read.Spec);
        Assert.Equal((256, "bytes"), (read.Vocab, read.Tokenizer));
        Assert.Equal(Logits(model), Logits(read.Model));
    }

    [Fact]
    public void Read_WithoutTheWeights_NamesTheMissingFile()
    {
        var spec = new JobSpec { Model = new ModelSpec { Layers = 1, Dim = 16, Heads = 2, Context = 8 } };
        using nn.Module<Tensor, Tensor> model = LanguageModels.Create(spec.Model, 16);
        ModelExport.Write(model, spec, _directory);
        File.Delete(Path.Combine(_directory, ModelExport.WeightsFile));

        var refused = Assert.Throws<FileNotFoundException>(() => ModelExport.Read(_directory));
        Assert.Contains(Path.Combine(_directory, ModelExport.WeightsFile), refused.Message);
    }

    [Fact]
    public async Task CheckpointExport_FromAJobsCheckpointRoot_ExportsTheNewestStepsModel()
    {
        JobSpec spec = Training.TinyJobs.Spec(new AlgorithmSpec { Type = AlgorithmType.DDP }, steps: 3, replicas: 1)
            with { Model = new ModelSpec { Type = ModelSpec.Llama, Layers = 1, Dim = 16, Heads = 2, Context = 8 } };
        random.manual_seed(spec.Training.Seed);
        using var trainer = new ReplicaTrainer(spec, TokenSources.Create(spec), new InMemoryCollectiveGroup(1)[0], CPU);
        var store = new CheckpointStore(Path.Combine(_directory, "checkpoints", "rank-0"), keep: 3, spec: spec);
        store.Save(1, trainer.ExportState(new Position(1, SyncPhase.AfterStep)));
        await trainer.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(1));
        store.Save(3, trainer.ExportState(new Position(3, SyncPhase.AfterStep)));

        Assert.Equal(JobSpecJson.Serialize(spec), JobSpecJson.Serialize(store.ReadSpec()!));
        (long step, string exported) = CheckpointExport.Run(Path.Combine(_directory, "checkpoints"), step: null, Path.Combine(_directory, "out"));
        using ExportedModel read = ModelExport.Read(exported);

        Assert.Equal(3, step);
        Assert.Equal(Logits(trainer.Model), Logits(read.Model));
        // generate --model takes the checkpoint directory as it is.
        using ExportedModel loaded = Verbs.LoadModel(Path.Combine(_directory, "checkpoints"));
        Assert.Equal(Logits(trainer.Model), Logits(loaded.Model));
        (long first, _) = CheckpointExport.Run(Path.Combine(_directory, "checkpoints", "rank-0"), step: 1, Path.Combine(_directory, "first"));
        using ExportedModel initial = ModelExport.Read(Path.Combine(_directory, "first"));
        Assert.Equal(1, first);
        Assert.NotEqual(Logits(trainer.Model), Logits(initial.Model));
    }

    [Fact]
    public async Task Export_AfterBf16Training_WritesTheFloat32MasterWeights()
    {
        JobSpec spec = Training.TinyJobs.Spec(new AlgorithmSpec { Type = AlgorithmType.DDP }, steps: 3, replicas: 1)
            with { Model = new ModelSpec { Type = ModelSpec.Llama, Layers = 1, Dim = 16, Heads = 2, Context = 8 } };
        spec = spec with { Training = spec.Training with { Precision = TrainingSpec.Bf16 } };
        random.manual_seed(spec.Training.Seed);
        using var trainer = new ReplicaTrainer(spec, TokenSources.Create(spec), new InMemoryCollectiveGroup(1)[0], CPU);
        await trainer.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(1));

        ModelExport.Write(trainer.NamedWeights(), spec, _directory);
        using ExportedModel read = ModelExport.Read(_directory);

        // The master weights after the last update, bit for bit: not the model's bfloat16 copy, which rounds them
        // and is refreshed only before the next forward pass.
        float[] master = new float[trainer.ParameterCount];
        trainer.State.CopyTo(Sync.Accounting.StateKind.Params, master);
        float[] exported = [.. read.Model.parameters().SelectMany(p => p.detach().data<float>().ToArray())];
        Assert.Equal(master, exported);
    }

    [Fact]
    public void CheckpointExport_WithoutTheStoredSpec_SaysWhy()
    {
        var store = new CheckpointStore(_directory, keep: 1);
        var bundle = new Sync.State.StateBundle();
        bundle.SetFloats("replica.params", [1f]);
        store.Save(1, bundle);

        var refused = Assert.Throws<InvalidDataException>(() => CheckpointExport.Run(_directory, null, Path.Combine(_directory, "out")));
        Assert.Contains(CheckpointStore.SpecName, refused.Message);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static float[] Logits(nn.Module<Tensor, Tensor> model)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.eval();
        long[] tokens = [1, 7, 4, 9, 15, 3, 3, 12];
        return model.call(tensor(tokens, [1, tokens.Length])).data<float>().ToArray();
    }
}
