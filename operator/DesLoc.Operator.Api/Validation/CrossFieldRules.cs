using DesLoc.Operator.Api.Resources;

namespace DesLoc.Operator.Api.Validation;

/// <summary>
/// A check across fields, written once in two languages: as a CEL rule that the API server runs (placed in the CRD at
/// <see cref="Node"/>), and as a C# predicate that <c>run FILE</c> and the reconciler run. A test evaluates both on the
/// same manifests and requires them to agree.
/// </summary>
/// <param name="Node">Path of the schema node the rule sits on (<c>spec.algorithm.desloc</c>); CEL's <c>self</c> is that node.</param>
/// <param name="Cel">The rule as the API server evaluates it.</param>
/// <param name="FieldPath">The field the API server names when the rule fails, relative to <see cref="Node"/> (<c>.ku</c>).</param>
/// <param name="Message">What to fix.</param>
/// <param name="Holds">The same rule in C#, over the whole spec.</param>
public sealed record CrossFieldRule(string Node, string Cel, string FieldPath, string Message, Func<LowCommJobSpec, bool> Holds)
{
    /// <summary>The field named when the rule fails, from the object root (<c>spec.algorithm.desloc.ku</c>).</summary>
    public string Field => Node + FieldPath;
}

/// <summary>Every cross-field rule of a LowCommJob.</summary>
public static class CrossFieldRules
{
    public static IReadOnlyList<CrossFieldRule> All { get; } =
    [
        new("spec", "!has(self.minReplicas) || self.minReplicas <= self.replicas", ".minReplicas",
            "minReplicas must not exceed replicas",
            s => s.MinReplicas is not { } min || min <= s.Replicas),
        new("spec", "has(self.template.spec) && self.template.spec.containers.exists(c, c.name == 'trainer')", ".template.spec.containers",
            "the pod template must have a container named 'trainer'",
            s => s.Template.Spec?.Containers?.Any(c => c.Name == "trainer") == true),
        new("spec.model", "self.dim % self.heads == 0", ".dim",
            "dim must be a multiple of heads",
            s => s.Model.Dim % s.Model.Heads == 0),
        new("spec.data", "!(has(self.path) && has(self.synthetic))", ".path",
            "set either path or synthetic, not both",
            s => s.Data.Path is null || s.Data.Synthetic is null),
        new("spec.algorithm.desloc", "!has(self.ku) || self.ku % self.kx == 0", ".ku",
            "ku must be a multiple of kx",
            s => s.Algorithm.Desloc.Ku is not { } ku || ku % s.Algorithm.Desloc.Kx == 0),
        new("spec.algorithm.desloc", "!has(self.kv) || self.kv % self.kx == 0", ".kv",
            "kv must be a multiple of kx",
            s => s.Algorithm.Desloc.Kv is not { } kv || kv % s.Algorithm.Desloc.Kx == 0),
        new("spec.algorithm.dct", "self.topK <= self.chunk", ".topK",
            "topK must not exceed chunk",
            s => s.Algorithm.Dct.TopK <= s.Algorithm.Dct.Chunk),
        new("spec.sync.adaptive", "self.minPeriod <= self.maxPeriod", ".minPeriod",
            "minPeriod must not exceed maxPeriod",
            s => s.Sync.Adaptive.MinPeriod <= s.Sync.Adaptive.MaxPeriod),
        new("spec.faultTolerance.backoff", "self.initialSeconds <= self.maxSeconds", ".initialSeconds",
            "initialSeconds must not exceed maxSeconds",
            s => s.FaultTolerance.Backoff.InitialSeconds <= s.FaultTolerance.Backoff.MaxSeconds),
    ];
}
