namespace DesLoc.Operator.Reconciliation;

/// <summary>
/// Who may scrape the trainers' metrics port besides the job's pods and the operator (a Prometheus elsewhere): the
/// labels of its namespace and/or of its pods, as <c>--metrics-scraper-namespace-labels</c> and
/// <c>--metrics-scraper-pod-labels</c> give them (parsed by <see cref="OperatorPeer.ParseLabels(string?, out string?)"/>). Both together
/// mean those pods in those namespaces; namespace labels alone, every pod of those namespaces; pod labels alone, those
/// pods in the job's own namespace (a NetworkPolicy peer's rules). Neither (<see cref="None"/>) admits nobody.
/// </summary>
public sealed record MetricsScraperPeer(IReadOnlyDictionary<string, string> NamespaceLabels, IReadOnlyDictionary<string, string> PodLabels)
{
    public static MetricsScraperPeer None { get; } = new(new Dictionary<string, string>(), new Dictionary<string, string>());

    public bool IsNone => NamespaceLabels.Count == 0 && PodLabels.Count == 0;
}
