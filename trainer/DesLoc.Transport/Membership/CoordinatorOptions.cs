namespace DesLoc.Transport.Membership;

/// <summary>Timing of quorum formation and commit votes (the job's <c>faultTolerance</c> block).</summary>
public sealed record CoordinatorOptions
{
    /// <summary>How long the first quorum waits for every configured replica before starting with those present.</summary>
    public TimeSpan JoinTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a quorum waits for a member that still answers pings but has not reached the sync point.</summary>
    public TimeSpan ArrivalTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How often missing members are pinged while a quorum or a commit waits.</summary>
    public TimeSpan ProbeInterval { get; init; } = TimeSpan.FromMilliseconds(200);
}
