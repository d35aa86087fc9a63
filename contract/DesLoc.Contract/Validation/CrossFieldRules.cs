using DesLoc.Contract.Spec;

namespace DesLoc.Contract.Validation;

/// <summary>
/// A check across fields, written once in two languages: as a CEL rule that the API server runs (placed in the CRD at
/// <see cref="Node"/>), and as a C# predicate that the trainer, <c>run FILE</c> and the reconciler run. A test
/// evaluates both on the same manifests and requires them to agree. Every rule must hold on the CRD's defaults as
/// written, because the API server checks each <c>default</c> against the rules of its node before it installs the CRD.
/// </summary>
/// <param name="Node">Path of the schema node the rule sits on (<c>spec.algorithm.desloc</c>); CEL's <c>self</c> is that node.</param>
/// <param name="Cel">The rule as the API server evaluates it.</param>
/// <param name="FieldPath">The field the API server names when the rule fails, relative to <see cref="Node"/> (<c>.ku</c>).</param>
/// <param name="Message">What to fix.</param>
/// <param name="Holds">The same rule in C#, over the whole spec.</param>
public sealed record CrossFieldRule<TSpec>(string Node, string Cel, string FieldPath, string Message, Func<TSpec, bool> Holds)
    where TSpec : JobSpec
{
    /// <summary>The field named when the rule fails, from the object root (<c>spec.algorithm.desloc.ku</c>).</summary>
    public string Field => Node + FieldPath;

    /// <summary>The same rule over a spec that extends <typeparamref name="TSpec"/>.</summary>
    public CrossFieldRule<TDerived> For<TDerived>()
        where TDerived : TSpec => new(Node, Cel, FieldPath, Message, spec => Holds(spec));
}

/// <summary>Every cross-field rule of the fields the trainer reads.</summary>
public static class CrossFieldRules
{
    // vocab^order <= 2^20 has no power function in CEL: the largest vocabulary for each order 1..20, derived here.
    private static readonly int[] s_maxVocabByOrder = [.. Enumerable.Range(1, 20).Select(MaxVocab)];

    // data.tokenizer's vocabulary in CEL, from the one table of tokenizers (0 for a name that is not one, as DataSpec.Vocab).
    private static readonly string s_tokenizerVocabCel =
        "(" + string.Concat(TokenizerNames.All.Select(name => $"self.data.tokenizer == '{name}' ? {TokenizerNames.VocabOf(name)} : ")) + "0)";

    public static IReadOnlyList<CrossFieldRule<JobSpec>> All { get; } =
    [
        new("spec", "!has(self.minReplicas) || self.minReplicas <= self.replicas", ".minReplicas",
            "minReplicas must not exceed replicas",
            s => s.MinReplicas is not { } min || min <= s.Replicas),
        new("spec", $"!has(self.model.vocab) || self.model.vocab >= (has(self.data.path) ? {DataSpec.ByteVocab} : has(self.data.shards) ? {s_tokenizerVocabCel} : has(self.data.synthetic) ? self.data.synthetic.vocab : {new SyntheticSpec().Vocab})", ".model.vocab",
            "model.vocab must be at least the data's vocabulary (256 for a text file, data.tokenizer's for shards, else data.synthetic.vocab); leave it out to use the data's",
            s => s.Model.Vocab is not { } vocab || vocab >= s.Data.Vocab),
        new("spec", "self.algorithm.type != 'PALSGD' || self.algorithm.palsgd.probability == 0.0 || self.algorithm.palsgd.eta * self.training.learningRate < self.algorithm.palsgd.probability", ".algorithm.palsgd.eta",
            "eta * training.learningRate must be below probability, or the pseudo-sync step overshoots the anchor; lower eta or raise probability",
            s => s.Algorithm.Type != AlgorithmType.PALSGD || s.Algorithm.Palsgd.Probability == 0
                || s.Algorithm.Palsgd.Eta * s.Training.LearningRate < s.Algorithm.Palsgd.Probability),
        new("spec.model", "self.dim % self.heads == 0", ".dim",
            "dim must be a multiple of heads",
            s => s.Model.Dim % s.Model.Heads == 0),
        // kvHeads below 1 is refused by its range; the guard keeps CEL from dividing by zero and reporting the node.
        new("spec.model", "!has(self.kvHeads) || self.kvHeads < 1 || self.heads % self.kvHeads == 0", ".kvHeads",
            "kvHeads must divide heads",
            s => s.Model.KvHeads is not { } kv || kv < 1 || s.Model.Heads % kv == 0),
        new("spec.data", "!(has(self.path) && (has(self.shards) || has(self.synthetic)))", ".path",
            "set one of path, shards and synthetic, not several",
            s => s.Data.Path is null || (s.Data.Shards is null && s.Data.Synthetic is null)),
        new("spec.data", "!(has(self.shards) && has(self.synthetic))", ".shards",
            "set one of shards and synthetic, not both",
            s => s.Data.Shards is null || s.Data.Synthetic is null),
        new("spec.data.synthetic", $"self.vocab <= [{string.Join(", ", s_maxVocabByOrder)}][self.order - 1]", ".order",
            $"vocab^order must be at most {SyntheticSpec.MaxStates} states; lower order or vocab",
            s => s.Data.Synthetic is not { } m || System.Math.Pow(m.Vocab, m.Order) <= SyntheticSpec.MaxStates),
        new("spec.algorithm.desloc", "!has(self.ku) || self.ku % self.kx == 0", ".ku",
            "ku must be a multiple of kx",
            s => s.Algorithm.Desloc.Ku is not { } ku || ku % s.Algorithm.Desloc.Kx == 0),
        new("spec.algorithm.desloc", "!has(self.kv) || self.kv % self.kx == 0", ".kv",
            "kv must be a multiple of kx",
            s => s.Algorithm.Desloc.Kv is not { } kv || kv % s.Algorithm.Desloc.Kx == 0),
        new("spec.algorithm.dct", $"self.topK <= (self.blocks == '{DctSettings.FlatBlocks}' ? self.chunk : self.chunk * self.chunk)", ".topK",
            "topK must not exceed a block: chunk*chunk with tensor blocks, chunk with flat ones",
            s => s.Algorithm.Dct.TopK <= (s.Algorithm.Dct.Blocks == DctSettings.FlatBlocks ? s.Algorithm.Dct.Chunk : (long)s.Algorithm.Dct.Chunk * s.Algorithm.Dct.Chunk)),
        // A sync in flight must land before the next one starts; CEL spells out AlgorithmSpec.OverlapBound.
        new("spec", "!has(self.sync) || !has(self.sync.overlapSteps) || self.sync.overlapSteps < (self.algorithm.type == 'DESLOC' ? self.algorithm.desloc.kx : self.algorithm.type == 'DiLoCo' ? self.algorithm.diloco.period : self.algorithm.type == 'PALSGD' ? self.algorithm.palsgd.period : self.algorithm.type == 'DCTMomentum' ? self.algorithm.dct.period : 0)", ".sync.overlapSteps",
            "sync.overlapSteps must be below the algorithm's period (kx for DESLOC), and only DESLOC, DiLoCo, PALSGD and DCTMomentum overlap their syncs",
            s => s.Sync.OverlapSteps is not { } delay || delay < (s.Algorithm.OverlapBound ?? 0)),
        // The steps trained while a sync is in flight skip the gate, and with it the regrouping a lost sibling needs.
        new("spec", "!has(self.sync) || !has(self.sync.overlapSteps) || self.workersPerReplica == 1", ".sync.overlapSteps",
            "sync.overlapSteps needs workersPerReplica 1",
            s => s.Sync.OverlapSteps is null || s.WorkersPerReplica == 1),
        new("spec.sync", "!has(self.overlapSteps) || !has(self.adaptive) || !self.adaptive.enabled || self.overlapSteps < self.adaptive.minPeriod", ".overlapSteps",
            "sync.overlapSteps must be below adaptive.minPeriod, so that no period the controller sets is shorter than a sync in flight",
            s => s.Sync.OverlapSteps is not { } delay || !s.Sync.Adaptive.Enabled || delay < s.Sync.Adaptive.MinPeriod),
        new("spec.sync.adaptive", "self.minPeriod <= self.maxPeriod", ".minPeriod",
            "minPeriod must not exceed maxPeriod",
            s => s.Sync.Adaptive.MinPeriod <= s.Sync.Adaptive.MaxPeriod),
        new("spec.faultTolerance.backoff", "self.initialSeconds <= self.maxSeconds", ".initialSeconds",
            "initialSeconds must not exceed maxSeconds",
            s => s.FaultTolerance.Backoff.InitialSeconds <= s.FaultTolerance.Backoff.MaxSeconds),
    ];

    /// <summary>The largest v with v^order at most <see cref="SyntheticSpec.MaxStates"/> (and at most the vocabulary's bound).</summary>
    private static int MaxVocab(int order)
    {
        int vocab = 256;
        while (System.Math.Pow(vocab, order) > SyntheticSpec.MaxStates)
        {
            vocab--;
        }

        return vocab;
    }
}
