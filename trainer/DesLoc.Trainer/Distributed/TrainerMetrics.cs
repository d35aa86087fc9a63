using DesLoc.Sync.Accounting;
using DesLoc.Trainer.Training;
using DesLoc.Transport.Collectives;
using Prometheus;

namespace DesLoc.Trainer.Distributed;

/// <summary>
/// The trainer's Prometheus instruments (prefix <c>desloc_</c>, names from DESIGN.md §5), in a registry of their
/// own. Values are read from the replica right before each scrape, so the training loop never touches them.
/// </summary>
internal sealed class TrainerMetrics
{
    public TrainerMetrics(ReplicaTrainer replica, LinkMeter interLink, FaultTolerantGate gate)
    {
        Registry = Metrics.NewCustomRegistry();
        MetricFactory metrics = Metrics.WithCustomRegistry(Registry);
        Counter bytesSent = metrics.CreateCounter("desloc_bytes_sent_total", "Bytes this worker sent in committed rounds, by state kind and tier (inter: between replicas, across sites; intra: inside its replica).", new CounterConfiguration { LabelNames = ["kind", "tier"] });
        Counter payload = metrics.CreateCounter("desloc_payload_bytes_total", "State bytes this replica contributed to committed sync rounds, by state kind.", new CounterConfiguration { LabelNames = ["kind"] });
        Counter ddp = metrics.CreateCounter("desloc_ddp_equivalent_bytes_total", "Bytes flat DDP over all the job's workers would have sent out of this worker's replica (site) for the same steps.");
        Counter wire = metrics.CreateCounter("desloc_wire_bytes_total", "Every byte the inter-site collective sent, including rounds that were abandoned and redone.");
        Counter fastSeconds = metrics.CreateCounter("desloc_intra_sync_seconds_total", "Wall time spent averaging gradients inside the replica (the fast tier).");
        Counter syncSeconds = metrics.CreateCounter("desloc_sync_seconds_total", "Wall time spent in sync rounds.");
        Counter computeSeconds = metrics.CreateCounter("desloc_compute_seconds_total", "Wall time spent computing (forward, backward, optimizer).");
        Gauge bandwidth = metrics.CreateGauge("desloc_link_bandwidth_bytes_per_second", "Measured bandwidth of this replica's ring link (recent average).");
        Gauge commFraction = metrics.CreateGauge("desloc_comm_fraction", "Fraction of wall time spent communicating.");
        Gauge step = metrics.CreateGauge("desloc_step", "Steps completed.");
        Gauge loss = metrics.CreateGauge("desloc_loss", "Recent training loss (exponential average).");
        // Published from the first evaluation on: a 0 before it would read as a perfect model.
        Gauge evalLoss = metrics.CreateGauge("desloc_eval_loss", "Latest held-out loss (mean cross-entropy, nats per token) of this worker's replica, evaluated by worker 0 every training.evalEverySteps steps and at the end.", new GaugeConfiguration { SuppressInitialValue = true });
        Gauge evalStep = metrics.CreateGauge("desloc_eval_step", "Step whose state desloc_eval_loss measured.", new GaugeConfiguration { SuppressInitialValue = true });
        Gauge reduction = metrics.CreateGauge("desloc_reduction_vs_ddp", "DDP-equivalent bytes over bytes sent.");
        Gauge period = metrics.CreateGauge("desloc_sync_period", "Steps between syncs of each state.", new GaugeConfiguration { LabelNames = ["state"] });
        Gauge members = metrics.CreateGauge("desloc_quorum_members", "Replicas in the current quorum.");
        Counter heals = metrics.CreateCounter("desloc_heals_total", "Times this replica healed from a peer.");
        Counter failedRounds = metrics.CreateCounter("desloc_failed_rounds_total", "Sync rounds this replica rolled back and redid.");

        Registry.AddBeforeCollectCallback(() =>
        {
            foreach ((string state, int steps) in replica.Strategy.Periods)
            {
                period.WithLabels(state).Set(steps);
            }

            LedgerSnapshot ledger = replica.Ledger.Snapshot();
            foreach (StateKind kind in Enum.GetValues<StateKind>())
            {
                bytesSent.WithLabels(kind.Label(), Tier.Inter.Label()).IncTo(ledger.WireBytes[kind]);
                if (ledger.IntraWireBytes[kind] > 0)
                {
                    bytesSent.WithLabels(kind.Label(), Tier.Intra.Label()).IncTo(ledger.IntraWireBytes[kind]);
                }

                payload.WithLabels(kind.Label()).IncTo(ledger.PayloadBytes[kind]);
            }

            ddp.IncTo(ledger.DdpEquivalentWireBytes);
            wire.IncTo(interLink.Bytes);
            fastSeconds.IncTo(replica.FastTierTime.TotalSeconds);
            double sync = replica.SyncTime.TotalSeconds;
            double compute = replica.ComputeTime.TotalSeconds;
            syncSeconds.IncTo(sync);
            computeSeconds.IncTo(compute);
            bandwidth.Set(interLink.BytesPerSecond);
            commFraction.Set(sync + compute > 0 ? sync / (sync + compute) : 0);
            step.Set(replica.Step);
            loss.Set(double.IsNaN(replica.RecentLoss) ? 0 : replica.RecentLoss);
            reduction.Set(double.IsInfinity(ledger.ReductionVsDdp) ? 0 : ledger.ReductionVsDdp);
            members.Set(gate.LastQuorum?.Members.Count ?? 0);
            if (replica.LastEvaluation is { } evaluation && double.IsFinite(evaluation.Loss))
            {
                evalLoss.Set(evaluation.Loss);
                evalStep.Set(evaluation.Step);
            }

            heals.IncTo(gate.Heals);
            failedRounds.IncTo(gate.FailedRounds);
        });
    }

    public CollectorRegistry Registry { get; }
}
