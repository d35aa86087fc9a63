namespace DesLoc.Trainer.Training;

/// <summary>A replica asked to stop gave up waiting for a sync round before anything was exchanged.</summary>
internal sealed class StoppedAtSyncPointException() : OperationCanceledException("Stopped while waiting for a sync round.");
