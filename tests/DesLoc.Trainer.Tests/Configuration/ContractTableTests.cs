using System.Text.Json.Nodes;
using DesLoc.Contract.Validation;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Api.Schema;
using DesLoc.Operator.Api.Validation;
using DesLoc.Operator.Reconciliation;
using DesLoc.Testing.Kubernetes;
using DesLoc.Testing.Kubernetes.Validation;
using DesLoc.Trainer.Configuration;
using k8s;

namespace DesLoc.Trainer.Tests.Configuration;

/// <summary>
/// One table of manifests, judged three times: by the generated CRD's schema and CEL rules as the API server runs
/// them (the test kit), by the operator's C# validation (what <c>run</c> and the reconciler check), and by the trainer,
/// on the config the operator writes for it. All three must accept the same manifests and name the same fields, so a
/// job the API server takes never makes every replica exit 2.
/// </summary>
public sealed class ContractTableTests
{
    private static readonly JsonNode s_schema = JsonNode.Parse(KubernetesJson.Serialize(
        CrdGenerator.LowCommJobDefinition().Spec.Versions[0].Schema.OpenAPIV3Schema))!;

    public static TheoryData<string, string[]> Manifests => new()
    {
        { "{}", [] },
        { """{"training": {"precision": "bf16"}, "sync": {"compression": "none"}}""", [] },
        { """{"training": {"precision": "fp16"}}""", ["spec.training.precision"] },
        { """{"sync": {"compression": "int8"}}""", [] },
        { """{"sync": {"compression": "fp8"}}""", ["spec.sync.compression"] },
        { """{"replicas": 8, "minReplicas": 6, "algorithm": {"type": "DESLOC", "desloc": {"kx": 16, "ku": 48, "kv": 96}}}""", [] },
        { """{"algorithm": {"desloc": {"kx": -1}}}""", ["spec.algorithm.desloc.kx"] },
        { """{"algorithm": {"desloc": {"kx": 16, "ku": 40}}}""", ["spec.algorithm.desloc.ku"] },
        { """{"algorithm": {"desloc": {"kx": 16, "ku": 48, "kv": 100}}}""", ["spec.algorithm.desloc.kv"] },
        { """{"algorithm": {"dct": {"chunk": 32, "topK": 64}}}""", [] },
        { """{"algorithm": {"dct": {"chunk": 32, "topK": 1025}}}""", ["spec.algorithm.dct.topK"] },
        { """{"algorithm": {"type": "DCTMomentum", "dct": {"chunk": 64, "topK": 4096}}}""", [] },
        { """{"algorithm": {"dct": {"blocks": "flat", "chunk": 32, "topK": 64}}}""", ["spec.algorithm.dct.topK"] },
        { """{"algorithm": {"dct": {"blocks": "flat", "chunk": 64, "topK": 64}}}""", [] },
        { """{"algorithm": {"dct": {"blocks": "flat", "topK": 65}}}""", ["spec.algorithm.dct.topK"] },
        { """{"algorithm": {"dct": {"blocks": "rows"}}}""", ["spec.algorithm.dct.blocks"] },
        { """{"algorithm": {"type": "DCTMomentum", "dct": {"chunk": 1024, "topK": 16}}}""", [] },
        { """{"algorithm": {"dct": {"chunk": 8192}}}""", ["spec.algorithm.dct.chunk"] },
        { """{"algorithm": {"type": "DCTMomentum", "dct": {"decay": 1}}}""", ["spec.algorithm.dct.decay"] },
        { """{"algorithm": {"diloco": {"period": 0}}}""", ["spec.algorithm.diloco.period"] },
        { """{"algorithm": {"palsgd": {"probability": 1.0}}}""", ["spec.algorithm.palsgd.probability"] },
        { """{"algorithm": {"type": "PALSGD", "palsgd": {"eta": 0}}}""", ["spec.algorithm.palsgd.eta"] },
        { """{"algorithm": {"type": "PALSGD", "palsgd": {"probability": 0.1, "eta": 0.5}}, "training": {"learningRate": 0.5}}""", ["spec.algorithm.palsgd.eta"] },
        { """{"algorithm": {"type": "PALSGD", "palsgd": {"probability": 0, "eta": 0.5}}, "training": {"learningRate": 0.5}}""", [] },
        { """{"algorithm": {"type": "DESLOC", "palsgd": {"probability": 0.1, "eta": 0.5}}, "training": {"learningRate": 0.5}}""", [] },
        { """{"replicas": 2, "minReplicas": 3}""", ["spec.minReplicas"] },
        { """{"replicas": 0}""", ["spec.replicas"] },
        { """{"model": {"dim": 66, "heads": 4}}""", ["spec.model.dim"] },
        { """{"model": {"type": "llama", "heads": 4, "kvHeads": 3}}""", ["spec.model.kvHeads"] },
        { """{"model": {"type": "llama", "heads": 4, "kvHeads": 2, "tiedEmbeddings": true, "ropeTheta": 500000}}""", [] },
        { """{"model": {"kvHeads": 0, "ropeTheta": 0.5}}""", ["spec.model.kvHeads", "spec.model.ropeTheta"] },
        { """{"model": {"type": "mamba"}}""", ["spec.model.type"] },
        { """{"model": {"vocab": 8}}""", ["spec.model.vocab"] },
        { """{"model": {"vocab": 200}, "data": {"path": "/data/book.txt"}}""", ["spec.model.vocab"] },
        { """{"model": {"vocab": 64}, "data": {"synthetic": {"vocab": 64}}}""", [] },
        { """{"data": {"path": "/data/book.txt", "synthetic": {}}}""", ["spec.data.path"] },
        { """{"data": {"path": "/data/book.txt", "shards": "/data/book"}}""", ["spec.data.path"] },
        { """{"data": {"shards": "/data/book", "synthetic": {}}}""", ["spec.data.shards"] },
        { """{"data": {"shards": "/data/book", "tokenizer": "sentencepiece"}}""", ["spec.data.tokenizer"] },
        { """{"model": {"vocab": 50257}, "data": {"shards": "/data/book"}}""", [] },
        { """{"model": {"vocab": 50000}, "data": {"shards": "/data/book"}}""", ["spec.model.vocab"] },
        { """{"model": {"vocab": 256}, "data": {"shards": "/data/book", "tokenizer": "bytes"}}""", [] },
        { """{"data": {"synthetic": {"vocab": 64, "order": 4}}}""", ["spec.data.synthetic.order"] },
        { """{"data": {"synthetic": {"vocab": 32, "order": 4}}}""", [] },
        { """{"sync": {"adaptive": {"minPeriod": 64, "maxPeriod": 32}}}""", ["spec.sync.adaptive.minPeriod"] },
        { """{"sync": {"overlapSteps": 31}}""", [] },
        { """{"sync": {"overlapSteps": 32}}""", ["spec.sync.overlapSteps"] },
        { """{"sync": {"overlapSteps": -1}}""", ["spec.sync.overlapSteps"] },
        { """{"algorithm": {"type": "DESLOC", "desloc": {"kx": 4, "ku": 8}}, "sync": {"overlapSteps": 3}}""", [] },
        { """{"algorithm": {"type": "DiLoCo", "diloco": {"period": 4}}, "sync": {"overlapSteps": 4}}""", ["spec.sync.overlapSteps"] },
        { """{"algorithm": {"type": "PALSGD", "palsgd": {"period": 8}}, "sync": {"overlapSteps": 0}}""", [] },
        { """{"algorithm": {"type": "DCTMomentum", "dct": {"period": 2}}, "sync": {"overlapSteps": 2}}""", ["spec.sync.overlapSteps"] },
        { """{"algorithm": {"type": "DDP"}, "sync": {"overlapSteps": 0}}""", ["spec.sync.overlapSteps"] },
        { """{"algorithm": {"type": "LocalAdam"}, "sync": {"overlapSteps": 1}}""", ["spec.sync.overlapSteps"] },
        { """{"workersPerReplica": 2, "sync": {"overlapSteps": 1}}""", ["spec.sync.overlapSteps"] },
        { """{"workersPerReplica": 2}""", [] },
        { """{"sync": {"overlapSteps": 4, "adaptive": {"enabled": true, "minPeriod": 4}}}""", ["spec.sync.overlapSteps"] },
        { """{"sync": {"overlapSteps": 3, "adaptive": {"enabled": true, "minPeriod": 4}}}""", [] },
        { """{"sync": {"overlapSteps": 8, "adaptive": {"minPeriod": 4}}}""", [] },
        { """{"faultTolerance": {"backoff": {"initialSeconds": 100, "maxSeconds": 10}}}""", ["spec.faultTolerance.backoff.initialSeconds"] },
        { """{"faultTolerance": {"roundTimeoutSeconds": 0}}""", ["spec.faultTolerance.roundTimeoutSeconds"] },
        { """{"transport": {"dataPlane": "rdma"}}""", ["spec.transport.dataPlane"] },
        { """{"checkpoint": {"keep": 0}}""", ["spec.checkpoint.keep"] },
        { """{"training": {"beta2": 1.0, "steps": 0}}""", ["spec.training.beta2", "spec.training.steps"] },
    };

    [Theory]
    [MemberData(nameof(Manifests))]
    public void ApiServer_Operator_AndTrainer_JudgeEveryManifestAlike(string specJson, string[] expected)
    {
        JsonObject spec = JsonNode.Parse(specJson)!.AsObject();
        spec["template"] ??= JsonNode.Parse("""{"spec": {"containers": [{"name": "trainer", "image": "trainer:1"}]}}""");
        var manifest = new JsonObject
        {
            ["apiVersion"] = LowCommJob.GroupVersion,
            ["kind"] = LowCommJob.KindName,
            ["metadata"] = new JsonObject { ["name"] = "j" },
            ["spec"] = spec,
        };

        StructuralSchema.ApplyDefaults(manifest, s_schema);
        IReadOnlyList<FieldViolation> byApiServer = StructuralSchema.Validate(manifest, s_schema);
        LowCommJob job = KubernetesJson.Deserialize<LowCommJob>(manifest.ToJsonString());
        IReadOnlyList<SpecError> byOperator = LowCommJobValidation.Validate(job.Spec);
        JobSpec trainerSpec = JobSpecLoader.Load(DesiredObjects.TrainerConfig(job.Spec, Layout), []);
        IReadOnlyList<SpecError> byTrainer = Preflight.Check(trainerSpec, fileExists: _ => true);

        Assert.Equal(expected.Order(), Fields(byApiServer.Select(v => v.Field).Where(f => f != "<nil>")));
        Assert.Equal(expected.Order(), Fields(byOperator.Select(e => e.Field)));
        Assert.Equal(expected.Order(), Fields(byTrainer.Select(e => e.Field)));
    }

    /// <summary>The cross-field rule that needs a power: CEL's table and C#'s arithmetic agree on every vocab and order.</summary>
    [Fact]
    public void SyntheticStateLimit_CelTableAndCSharp_AgreeOnEveryVocabAndOrder()
    {
        var disagreements = new List<string>();
        for (int order = 1; order <= 20; order++)
        {
            for (int vocab = 2; vocab <= 256; vocab++)
            {
                JsonNode manifest = JsonNode.Parse("""{"spec": {"template": {"spec": {"containers": [{"name": "trainer"}]}}}}""")!;
                manifest["spec"]!["data"] = new JsonObject { ["synthetic"] = new JsonObject { ["vocab"] = vocab, ["order"] = order } };
                StructuralSchema.ApplyDefaults(manifest, s_schema);
                bool apiServer = StructuralSchema.Validate(manifest, s_schema).Count == 0;
                bool trainer = Preflight.Check(new JobSpec { Data = new DataSpec { Synthetic = new SyntheticSpec { Vocab = vocab, Order = order } } }).Count == 0;
                if (apiServer != trainer || trainer != (Math.Pow(vocab, order) <= SyntheticSpec.MaxStates))
                {
                    disagreements.Add($"vocab {vocab} order {order}: API server {apiServer}, trainer {trainer}");
                }
            }
        }

        Assert.Empty(disagreements);
    }

    private static ReplicaLayout Layout => ReplicaLayout.Cluster("j", "ml", new CheckpointSpec());

    private static string[] Fields(IEnumerable<string> fields) => [.. fields.Distinct().Order()];
}
