namespace DesLoc.Testing;

/// <summary>LowCommJob spec fields that tests in more than one project run: indented two spaces, to follow `spec:`.</summary>
public static class JobSpecs
{
    /// <summary>
    /// DES-LOC with adaptive sync whose target (1% of the time communicating) is far below what syncing every 4 steps
    /// costs, and still several times below at maxPeriod 16 on loopback: the controller may only lengthen the periods.
    /// </summary>
    public const string AdaptiveTargetOutOfReach = """
          training:
            steps: 700
          algorithm:
            type: DESLOC
            desloc:
              kx: 4
          sync:
            adaptive:
              enabled: true
              targetCommFraction: 0.01
              hysteresis: 0.1
              minPeriod: 4
              maxPeriod: 16
              intervalSeconds: 1
              switchAfterPeriods: 2
        """;
}
