namespace DesLoc.Testing.Kubernetes;

/// <summary>
/// The request log and the failures tests ask for. Requests are matched by method and by a substring of
/// <c>path?query</c> (query unescaped), e.g. <c>("PATCH", "/widgets/w1/status")</c> or <c>("GET", "watch=true")</c>.
/// </summary>
internal sealed class FaultInjector
{
    private readonly Lock _gate = new();
    private readonly List<(string Method, string Target)> _requests = [];
    private readonly List<Rule> _rules = [];

    public void Record(string method, string target)
    {
        lock (_gate)
        {
            _requests.Add((method, target));
        }
    }

    public int Count(string method, string pathContains)
    {
        lock (_gate)
        {
            return _requests.Count(r => Matches(r.Method, r.Target, method, pathContains));
        }
    }

    public void FailNext(string method, string pathContains, int statusCode, int times)
    {
        lock (_gate)
        {
            _rules.Add(new Rule(method, pathContains, statusCode) { Remaining = times });
        }
    }

    /// <summary>The status code to fail this request with (using up one of the rule's times), or null to serve it.</summary>
    public int? Take(string method, string target)
    {
        lock (_gate)
        {
            Rule? rule = _rules.Find(r => r.Remaining > 0 && Matches(method, target, r.Method, r.PathContains));
            if (rule is null)
            {
                return null;
            }

            rule.Remaining--;
            return rule.StatusCode;
        }
    }

    private static bool Matches(string method, string target, string wantedMethod, string pathContains) =>
        string.Equals(method, wantedMethod, StringComparison.OrdinalIgnoreCase) && target.Contains(pathContains, StringComparison.Ordinal);

    private sealed record Rule(string Method, string PathContains, int StatusCode)
    {
        public int Remaining { get; set; }
    }
}
