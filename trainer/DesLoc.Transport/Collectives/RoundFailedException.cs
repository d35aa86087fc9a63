namespace DesLoc.Transport.Collectives;

/// <summary>
/// A collective operation could not complete (a peer died, stalled past the timeout, or the quorum changed).
/// The caller rolls back to its pre-round state and redoes the round with a new quorum; nothing half-reduced is kept.
/// </summary>
public sealed class RoundFailedException(string message, Exception? inner = null) : Exception(message, inner);
