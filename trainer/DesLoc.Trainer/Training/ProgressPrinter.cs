using System.Diagnostics;
using System.Globalization;
using DesLoc.Sync.Accounting;

namespace DesLoc.Trainer.Training;

/// <summary>Prints one line about once a second while a job runs: step, loss, speed, bytes and reduction vs DDP, and each new held-out loss.</summary>
internal sealed class ProgressPrinter : IDisposable
{
    private readonly InProcessJob _job;
    private readonly JobSpec _spec;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    // Held-out losses per step until every replica's worker 0 has reported one: (reports, their sum).
    private readonly Dictionary<long, (int Count, double Sum)> _evaluations = [];

    public ProgressPrinter(InProcessJob job, JobSpec spec)
    {
        _job = job;
        _spec = spec;
        foreach (ReplicaTrainer worker in job.Replicas.Where(w => w.Worker == 0))
        {
            worker.Evaluated += OnEvaluated;
        }

        _loop = Task.Run(LoopAsync);
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _loop;
    }

    public void Dispose() => _stop.Dispose();

    private async Task LoopAsync()
    {
        var clock = Stopwatch.StartNew();
        long lastPrinted = -1;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                long step = _job.Replicas.Min(r => r.Step);
                if (step != lastPrinted && step > 0)
                {
                    Console.WriteLine(Line(step, clock.Elapsed));
                    lastPrinted = step;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Called on a worker's training thread after each of its evaluations: once every replica's worker 0 has evaluated
    /// a step, prints their mean held-out loss and its perplexity (at once, so a fast job shows every evaluation).
    /// </summary>
    private void OnEvaluated(Evaluation evaluation)
    {
        double? mean = null;
        lock (_evaluations)
        {
            (int count, double sum) = _evaluations.GetValueOrDefault(evaluation.Step);
            (count, sum) = (count + 1, sum + evaluation.Loss);
            _evaluations[evaluation.Step] = (count, sum);
            if (count == _spec.Replicas)
            {
                mean = sum / count;
                _evaluations.Remove(evaluation.Step);
            }
        }

        if (mean is { } loss)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"step {evaluation.Step,6}/{_spec.Training.Steps} | held-out loss {loss,7:0.0000} | perplexity {Math.Exp(loss):0.00}"));
        }
    }

    private string Line(long step, TimeSpan elapsed)
    {
        double loss = _job.Replicas.Select(r => r.RecentLoss).Where(l => !double.IsNaN(l)).DefaultIfEmpty(double.NaN).Average();
        // Replica 0's workers together: each sent its shard between replicas.
        CommunicationLedger[] replica = [.. _job.Replicas.Take(_spec.WorkersPerReplica).Select(w => w.Ledger)];
        long sent = replica.Sum(l => l.TotalWireBytes);
        long ddp = replica[0].DdpEquivalentWireBytes;
        return string.Create(CultureInfo.InvariantCulture,
            $"step {step,6}/{_spec.Training.Steps} | loss {loss,7:0.0000} | {step / elapsed.TotalSeconds,6:0.00} steps/s | " +
            $"sent {ByteFormat.Bytes(sent),10}/replica | DDP {ByteFormat.Bytes(ddp),10} | {ByteFormat.Factor(sent == 0 ? double.PositiveInfinity : (double)ddp / sent)} less");
    }
}
