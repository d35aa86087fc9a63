using DesLoc.Sync.Accounting;
using DesLoc.Sync.Algorithms;
using DesLoc.Sync.Math;
using DesLoc.Trainer.Models;
using DesLoc.Trainer.Tests.Training;
using DesLoc.Trainer.Training;

namespace DesLoc.Trainer.Tests.Claims;

/// <summary>
/// Every method at one period, 4 replicas in one process, the tiny GPT, 48 steps, period 8 (DES-LOC 8/24/48); the
/// claims harness's own grid is checked by <see cref="ClaimsHarnessTests"/>. The byte counters equal the analytic formulas for the real model's P parameters, and the methods rank
/// by bytes as the papers say. Summed over ranks a ring all-reduce of n floats sends exactly 2(W-1)n floats, however
/// n splits into chunks, so the totals are exact.
/// </summary>
[Collection("TorchSharp")]
public sealed class CommunicationTableTests
{
    private const int W = 4;
    private const int T = 48;
    private const int K = 8;

    private static readonly DctSettings s_dct = new() { Period = K, Chunk = 64, TopK = 4 };
    private static readonly Lazy<Task<Dictionary<AlgorithmType, JobResult>>> s_runs = new(RunAllAsync);

    [Fact]
    public async Task Ddp_SendsOneGradientAllReducePerStep()
    {
        JobResult ddp = (await s_runs.Value)[AlgorithmType.DDP];

        Assert.Equal(T * ModelBytes(ddp), Payload(ddp, StateKind.Grads));
        Assert.Equal(T * AllReduceWire(ddp), TotalWire(ddp));
        Assert.All(ddp.Ledgers, l => Assert.Equal(l.DdpEquivalentWireBytes, l.TotalWireBytes));
    }

    [Fact]
    public async Task LocalAdam_SendsParamsAndBothMomentsEveryK()
    {
        JobResult run = (await s_runs.Value)[AlgorithmType.LocalAdam];

        foreach (StateKind kind in new[] { StateKind.Params, StateKind.M1, StateKind.M2 })
        {
            Assert.Equal(T / K * ModelBytes(run), Payload(run, kind));
        }

        Assert.Equal(3 * T / K * AllReduceWire(run), TotalWire(run));
    }

    [Fact]
    public async Task DesLoc_SendsEachStateOnItsOwnPeriod_HalfOfLocalAdam()
    {
        Dictionary<AlgorithmType, JobResult> runs = await s_runs.Value;
        JobResult run = runs[AlgorithmType.DESLOC];

        Assert.Equal(T / K * ModelBytes(run), Payload(run, StateKind.Params));
        Assert.Equal(T / (3 * K) * ModelBytes(run), Payload(run, StateKind.M1));
        Assert.Equal(T / (6 * K) * ModelBytes(run), Payload(run, StateKind.M2));
        Assert.Equal((T / K + T / (3 * K) + T / (6 * K)) * AllReduceWire(run), TotalWire(run));
        Assert.Equal(TotalWire(runs[AlgorithmType.LocalAdam]), 2 * TotalWire(run));
    }

    [Fact]
    public async Task DiLoCo_SendsOnePseudoGradientEveryH()
    {
        JobResult run = (await s_runs.Value)[AlgorithmType.DiLoCo];

        Assert.Equal(T / K * ModelBytes(run), Payload(run, StateKind.PseudoGrad));
        Assert.Equal(T / K * AllReduceWire(run), TotalWire(run));
    }

    [Fact]
    public async Task Palsgd_SendsGradientsDuringWarmupThenOnePseudoGradientEveryH()
    {
        JobResult run = (await s_runs.Value)[AlgorithmType.PALSGD];

        Assert.Equal(K * ModelBytes(run), Payload(run, StateKind.Grads));
        Assert.Equal((T - K) / K * ModelBytes(run), Payload(run, StateKind.PseudoGrad));
        Assert.Equal((K + ((T - K) / K)) * AllReduceWire(run), TotalWire(run));
    }

    [Fact]
    public async Task DctMomentum_AllGathersTopKIndexValuePairsPerChunkEveryH()
    {
        JobResult run = (await s_runs.Value)[AlgorithmType.DCTMomentum];

        // Top-4 per block of each tensor: a 1-D tensor of 32 is one block (1-byte indices), a 32 x 32 weight one block of 1024 (2-byte ones).
        TensorBlockLayout layout = DctMomentum.LayoutOf(s_dct, LanguageModels.ParameterShapes(TinyJobs.Spec(new AlgorithmSpec(), T, W)));
        long payload = layout.Regions.Sum(r => r.BlockCount * 4L * (r.BlockSize <= 256 ? 1 + sizeof(float) : 2 + sizeof(float)));
        Assert.Equal(T / K * payload, Payload(run, StateKind.Dct));
        Assert.Equal(T / K * W * (W - 1) * payload, TotalWire(run));
    }

    [Fact]
    public async Task Methods_RankByBytes_DdpLocalAdamPalsgdDeslocDilocoDct()
    {
        Dictionary<AlgorithmType, JobResult> runs = await s_runs.Value;

        AlgorithmType[] byBytes = [.. runs.OrderByDescending(r => r.Value.Ledgers[0].TotalWireBytes).Select(r => r.Key)];

        Assert.Equal(
            [AlgorithmType.DDP, AlgorithmType.LocalAdam, AlgorithmType.PALSGD, AlgorithmType.DESLOC, AlgorithmType.DiLoCo, AlgorithmType.DCTMomentum],
            byBytes);
    }

    private static long ModelBytes(JobResult run) => (long)run.ParameterCount * sizeof(float);

    /// <summary>Bytes all ranks together send in one ring all-reduce of the model: 2(W-1)P floats.</summary>
    private static long AllReduceWire(JobResult run) => 2L * (W - 1) * ModelBytes(run);

    private static long TotalWire(JobResult run) => run.Ledgers.Sum(l => l.TotalWireBytes);

    /// <summary>A state's payload bytes, the same on every rank.</summary>
    private static long Payload(JobResult run, StateKind kind)
    {
        long[] perRank = [.. run.Ledgers.Select(l => l.PayloadBytes.GetValueOrDefault(kind))];
        Assert.All(perRank, p => Assert.Equal(perRank[0], p));
        return perRank[0];
    }

    private static async Task<Dictionary<AlgorithmType, JobResult>> RunAllAsync()
    {
        var runs = new Dictionary<AlgorithmType, JobResult>();
        foreach (AlgorithmType type in Enum.GetValues<AlgorithmType>())
        {
            var algorithm = new AlgorithmSpec
            {
                Type = type,
                LocalAdam = new() { Period = K },
                Desloc = new() { Kx = K },
                Diloco = new() { Period = K },
                Palsgd = new() { Period = K, Probability = 0.2, Eta = 1 },
                DdpWarmupSteps = type == AlgorithmType.PALSGD ? K : 0,
                Dct = s_dct,
            };
            runs[type] = (await TinyJobs.RunAsync(TinyJobs.Spec(algorithm, T, W))).Result;
        }

        return runs;
    }
}
