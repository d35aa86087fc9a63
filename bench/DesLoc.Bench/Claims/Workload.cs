using System.Globalization;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Local;

namespace DesLoc.Bench.Claims;

/// <summary>The model, data and training settings every method of a table shares, and the manifest of one run.</summary>
internal sealed record Workload(string Name, string DataYaml, int Layers, int Dim, int Context, int Steps, double LearningRate)
{
    public const int Replicas = 4;
    private static readonly CultureInfo s_text = CultureInfo.InvariantCulture;

    public static Workload Synthetic(int steps) =>
        new("synthetic", "synthetic:\n  vocab: 16\n  order: 2", Layers: 1, Dim: 32, Context: 32, steps, LearningRate: 0.01);

    /// <summary>A text file as bytes (vocabulary 256): the same small model with a longer context.</summary>
    public static Workload Text(string path, int steps) =>
        new("text", $"path: {Path.GetFullPath(path)}", Layers: 1, Dim: 32, Context: 64, steps, LearningRate: 0.01);

    public string Describe() => string.Create(s_text,
        $"{Name} source, GPT {Layers}x{Dim} (ctx {Context}, batch 16), {Steps} steps, {Replicas} replica processes, lr {LearningRate}");

    public LowCommJob Job(Method method, string name, string? adaptiveYaml = null, int? steps = null) => ManifestLoader.Parse(string.Create(s_text, $"""
        apiVersion: desloc.dev/v1alpha1
        kind: LowCommJob
        metadata:
          name: {name}
        spec:
          replicas: {Replicas}
          template:
            spec:
              containers:
                - name: trainer
                  image: trainer
          model:
            layers: {Layers}
            dim: {Dim}
            heads: 2
            context: {Context}
          data:
            {DataYaml.Replace("\n", "\n    ", StringComparison.Ordinal)}
          training:
            steps: {steps ?? Steps}
            batchSize: 16
            learningRate: {LearningRate}
            warmupSteps: 20
          algorithm:
            {method.AlgorithmYaml.Replace("\n", "\n    ", StringComparison.Ordinal)}
          sync:
            {(method.OverlapSteps is { } overlap ? $"overlapSteps: {overlap}\n    " : "")}adaptive:
              {adaptiveYaml?.Replace("\n", "\n      ", StringComparison.Ordinal) ?? "enabled: false"}
          faultTolerance:
            maxRestarts: 0
        """), name);
}
