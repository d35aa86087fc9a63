using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DesLoc.Operator.Metrics;

namespace DesLoc.Operator.Tests.Chart;

/// <summary>
/// A light structural check of the chart (there is no Helm here, and no template engine is written for it): the Go
/// template actions balance, the YAML around them parses into the expected kinds, every value referenced exists and
/// is documented, RBAC grants exactly what the operator calls, and the Deployment passes flags the operator knows.
/// </summary>
public sealed partial class ChartTemplateTests
{
    private static readonly string[] s_manifestTemplates = [.. Directory.GetFiles(RepoFiles.Chart("templates"), "*.yaml").Order(StringComparer.Ordinal)];

    [Fact]
    public void Templates_BalanceTheirActions_AndParseAsYamlAroundThem()
    {
        var kinds = new List<string>();
        foreach (string path in s_manifestTemplates)
        {
            string template = File.ReadAllText(path);
            Assert.True(Regex.Count(template, @"\{\{") == Regex.Count(template, @"\}\}"), $"{path}: unbalanced {{{{ }}}}");
            int opened = Regex.Count(template, @"\{\{-?\s*(if|with|range|define)\b");
            Assert.True(opened == Regex.Count(template, @"\{\{-?\s*end\s*-?\}\}"), $"{path}: if/with/range/define and end do not pair up");

            foreach (JsonNode? document in Skeleton(path))
            {
                Assert.NotNull(document);
                Assert.False(string.IsNullOrEmpty((string?)document["apiVersion"]), $"{path}: a document without apiVersion");
                kinds.Add((string)document["kind"]!);
            }
        }

        Assert.Equal(
            ["ClusterRole", "ClusterRoleBinding", "ConfigMap", "Deployment", "NetworkPolicy", "PodMonitor", "PrometheusRule", "Role", "RoleBinding", "Service", "ServiceAccount", "ServiceMonitor"],
            kinds.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void EveryReferencedValue_ExistsInValuesYaml_AndIsDocumentedInTheReadme()
    {
        JsonNode values = RepoFiles.YamlFile(RepoFiles.Chart("values.yaml"));
        string readme = File.ReadAllText(RepoFiles.Chart("README.md"));
        string templates = string.Concat(Directory.GetFiles(RepoFiles.Chart("templates")).Select(File.ReadAllText));
        HashSet<string> referenced = [.. ValuesReference().Matches(templates).Select(m => m.Groups["path"].Value)];

        Assert.Contains("leaderElection.enabled", referenced);
        foreach (string path in referenced)
        {
            Assert.True(HasKey(values, path), $".Values.{path} is not in values.yaml");
            Assert.True(readme.Contains($"`{path}", StringComparison.Ordinal), $".Values.{path} is not documented in the chart's README.md");
        }

        // And no value is dead: each leaf of values.yaml is read by a template (directly or through a parent).
        foreach (string leaf in Leaves(values, ""))
        {
            Assert.True(referenced.Any(r => leaf == r || leaf.StartsWith(r + ".", StringComparison.Ordinal)), $"values.yaml's {leaf} is used by no template");
        }
    }

    [Fact]
    public void ClusterRole_GrantsExactlyWhatTheOperatorCalls()
    {
        JsonNode role = Skeleton(RepoFiles.Chart("templates", "clusterrole.yaml")).Single(d => (string)d!["kind"]! == "ClusterRole")!;
        Dictionary<string, string> grants = Grants(role);

        Assert.Equal(new Dictionary<string, string>
        {
            ["desloc.dev/lowcommjobs"] = "delete,get,list,watch",
            ["desloc.dev/lowcommjobs/status"] = "update",
            ["desloc.dev/lowcommjobs/finalizers"] = "update",
            ["/pods"] = "create,delete,get,list,watch",
            ["/services"] = "create,get,list,watch",
            ["/secrets"] = "create,get,list,watch",
            ["networking.k8s.io/networkpolicies"] = "create,get,list,update,watch",
            ["/events"] = "create,get,patch",
        }, grants);
    }

    [Fact]
    public void OperatorNetworkPolicy_AdmitsOnlyTheMetricsPort_ToTheOperatorPods_AndIsOnByDefault()
    {
        string path = RepoFiles.Chart("templates", "networkpolicy.yaml");
        string template = File.ReadAllText(path);
        JsonNode policy = Skeleton(path).Single()!;
        JsonNode rule = Assert.Single(policy["spec"]!["ingress"]!.AsArray())!;

        Assert.Equal("networking.k8s.io/v1", (string)policy["apiVersion"]!);
        Assert.StartsWith("{{- if .Values.networkPolicy.enabled }}", template.TrimStart());
        Assert.True((bool)RepoFiles.YamlFile(RepoFiles.Chart("values.yaml"))["networkPolicy"]!["enabled"]!);
        Assert.Equal(["Ingress"], policy["spec"]!["policyTypes"]!.AsArray().Select(t => (string)t!));
        Assert.Null(rule["from"]); // from anywhere (Prometheus, the kubelet), but to one port
        Assert.Equal("TCP", (string)rule["ports"]![0]!["protocol"]!);
        Assert.Contains("port: {{ .Values.metrics.port }}", template);
        Assert.Contains("{{- include \"desloc-operator.selectorLabels\" . | nindent 6 }}", template);
        // Each job's NetworkPolicy admits the operator by the same selector labels.
        Assert.Contains("- --operator-pod-labels={{ include \"desloc-operator.selectorLabelPairs\" . }}", File.ReadAllText(RepoFiles.Chart("templates", "deployment.yaml")));
        // ... and a metrics scraper only when one is named (empty by default: nobody else).
        Assert.Contains("{{- with .Values.trainerMetricsScraper.podLabels }}\n            - --metrics-scraper-pod-labels={{ include \"desloc-operator.labelPairs\" . }}",
            File.ReadAllText(RepoFiles.Chart("templates", "deployment.yaml")));
        Assert.Empty(RepoFiles.YamlFile(RepoFiles.Chart("values.yaml"))["trainerMetricsScraper"]!["namespaceLabels"]!.AsObject());
        Assert.Contains("include \"desloc-operator.selectorLabels\" . | fromYaml", File.ReadAllText(RepoFiles.Chart("templates", "_helpers.tpl")));
    }

    [Fact]
    public void LeaseRole_LetsTheOperatorCreateAndRenewOnlyItsLease()
    {
        JsonNode role = Skeleton(RepoFiles.Chart("templates", "role.yaml")).Single(d => (string)d!["kind"]! == "Role")!;
        var rules = role["rules"]!.AsArray().Select(r => r!).ToList();

        Assert.All(rules, r => Assert.Equal(["coordination.k8s.io"], r["apiGroups"]!.AsArray().Select(g => (string)g!)));
        Assert.Equal(new Dictionary<string, string> { ["coordination.k8s.io/leases"] = "create,get,update" }, Grants(role));
        JsonNode named = Assert.Single(rules, r => r["resourceNames"] is not null);
        Assert.Equal(["desloc-operator"], named["resourceNames"]!.AsArray().Select(n => (string)n!));
        Assert.DoesNotContain("create", named["verbs"]!.AsArray().Select(v => (string)v!));
    }

    [Fact]
    public async Task Deployment_RunsServeWithFlagsTheOperatorKnows_ProbesHealth_AndRunsLockedDown()
    {
        JsonNode deployment = Skeleton(RepoFiles.Chart("templates", "deployment.yaml")).Single()!;
        string template = File.ReadAllText(RepoFiles.Chart("templates", "deployment.yaml"));
        JsonNode container = deployment["spec"]!["template"]!["spec"]!["containers"]![0]!;
        string[] args = [.. container["args"]!.AsArray().Select(a => (string)a!)];

        Assert.Equal("serve", args[0]);
        Assert.Contains("- --leader-election={{ include \"desloc-operator.leaderElection\" . }}", template);
        Assert.Contains("- --metrics-port={{ .Values.metrics.port }}", template);
        // The Lease Role exists exactly when the Deployment elects a leader.
        Assert.Contains("(eq (include \"desloc-operator.leaderElection\" .) \"true\")", File.ReadAllText(RepoFiles.Chart("templates", "role.yaml")));
        Assert.Contains("or .Values.leaderElection.enabled (gt (int .Values.replicaCount) 1)", File.ReadAllText(RepoFiles.Chart("templates", "_helpers.tpl")));
        string[] known = await OperatorServeFlagsAsync();
        foreach (string flag in args.Skip(1).Concat(FlagInTemplate().Matches(template).Select(m => m.Value)).Select(a => a.Split('=')[0]).Distinct())
        {
            Assert.True(known.Contains(flag), $"The Deployment passes {flag}, which `desloc-operator serve` does not know ({string.Join(", ", known)}).");
        }

        Assert.Equal(["POD_NAME:metadata.name", "POD_NAMESPACE:metadata.namespace"],
            container["env"]!.AsArray().Select(e => $"{e!["name"]}:{e["valueFrom"]!["fieldRef"]!["fieldPath"]}"));
        Assert.Equal("/healthz", (string)container["livenessProbe"]!["httpGet"]!["path"]!);
        Assert.Equal("/readyz", (string)container["readinessProbe"]!["httpGet"]!["path"]!);
        Assert.Equal("/tmp", (string)container["volumeMounts"]![0]!["mountPath"]!);
        Assert.NotNull(deployment["spec"]!["template"]!["spec"]!["volumes"]![0]!["emptyDir"]);
        Assert.Contains("{{- toYaml .Values.securityContext | nindent 12 }}", template);
        Assert.Contains("{{- toYaml .Values.podSecurityContext | nindent 8 }}", template);

        JsonNode values = RepoFiles.YamlFile(RepoFiles.Chart("values.yaml"));
        JsonNode security = values["securityContext"]!;
        Assert.True((bool)security["readOnlyRootFilesystem"]!);
        Assert.True((bool)security["runAsNonRoot"]!);
        Assert.False((bool)security["allowPrivilegeEscalation"]!);
        Assert.Equal(["ALL"], security["capabilities"]!["drop"]!.AsArray().Select(c => (string)c!));
        Assert.Equal("RuntimeDefault", (string)security["seccompProfile"]!["type"]!);
        Assert.True((bool)values["podSecurityContext"]!["runAsNonRoot"]!);
        // The pod's user is the image's USER, so files the image owns stay readable.
        Assert.Contains($"USER {values["podSecurityContext"]!["runAsUser"]}:", File.ReadAllText(RepoFiles.Path("Dockerfile.operator")));
        Assert.Equal(1, (int)values["replicaCount"]!);
        Assert.True((bool)values["leaderElection"]!["enabled"]!);
        Assert.Equal(8080, (int)values["metrics"]!["port"]!);
    }

    [Fact]
    public void MonitoringTemplates_IncludeTheTestedFiles_AndKeepTheJobLabels()
    {
        string rule = File.ReadAllText(RepoFiles.Chart("templates", "prometheusrule.yaml"));
        string dashboard = File.ReadAllText(RepoFiles.Chart("templates", "dashboard-configmap.yaml"));
        JsonNode values = RepoFiles.YamlFile(RepoFiles.Chart("values.yaml"));

        Assert.Contains(".Files.Get \"files/alerts.rules.yaml\"", rule);
        Assert.Contains("{{- $rules | nindent 2 }}", rule);
        Assert.Contains(".Files.Get \"dashboards/desloc.json\"", dashboard);
        Assert.NotNull(JsonNode.Parse(File.ReadAllText(RepoFiles.Chart("dashboards", "desloc.json")))!["panels"]);
        Assert.Equal("grafana_dashboard", (string)values["dashboard"]!["label"]!);
        Assert.True((bool)Skeleton(RepoFiles.Chart("templates", "servicemonitor.yaml")).Single()!["spec"]!["endpoints"]![0]!["honorLabels"]!);
        Assert.False((bool)values["serviceMonitor"]!["enabled"]!);
        Assert.False((bool)values["prometheusRule"]!["enabled"]!);
        // The promtool tests are not shipped in the packaged chart.
        Assert.Contains("files/alerts.test.yaml", File.ReadAllLines(RepoFiles.Chart(".helmignore")));
    }

    [Fact]
    public void ChartYaml_IsV2_WithTheAppVersionTheImagesCarry()
    {
        JsonNode chart = RepoFiles.YamlFile(RepoFiles.Chart("Chart.yaml"));

        Assert.Equal("v2", (string)chart["apiVersion"]!);
        Assert.Equal("desloc-operator", (string)chart["name"]!);
        Assert.Equal("0.1.0", (string)chart["appVersion"]!);
        Assert.Contains("ghcr.io/desloc/trainer:0.1.0", File.ReadAllText(RepoFiles.Path("samples", "quickstart.yaml")));
    }

    /// <summary>
    /// A template's YAML with its actions taken out: lines that are only actions go, other actions become a plain
    /// scalar. What is left is what Helm would fill in, so it must parse.
    /// </summary>
    private static IReadOnlyList<JsonNode?> Skeleton(string path)
    {
        string text = TemplateComment().Replace(File.ReadAllText(path), "");
        var lines = text.Split('\n')
            .Where(line => !ActionOnlyLine().IsMatch(line))
            .Select(line => Action().Replace(line, "x"));
        return [.. RepoFiles.YamlDocuments(string.Join('\n', lines)).Where(d => d is not null)];
    }

    private static Dictionary<string, string> Grants(JsonNode role) =>
        role["rules"]!.AsArray()
            .SelectMany(rule => rule!["apiGroups"]!.AsArray().SelectMany(group => rule["resources"]!.AsArray()
                .SelectMany(resource => rule["verbs"]!.AsArray().Select(verb => (Key: $"{group}/{resource}", Verb: (string)verb!)))))
            .GroupBy(g => g.Key)
            .ToDictionary(g => g.Key, g => string.Join(',', g.Select(v => v.Verb).Distinct().Order(StringComparer.Ordinal)));

    /// <summary>The flags `serve` accepts, from the operator's own refusal of an unknown one.</summary>
    private static async Task<string[]> OperatorServeFlagsAsync()
    {
        string operatorDll = Path.Combine(Path.GetDirectoryName(typeof(OperatorMetrics).Assembly.Location)!, "desloc-operator.dll");
        var start = new ProcessStartInfo("dotnet", [operatorDll, "serve", "--not-a-flag"]) { RedirectStandardError = true, RedirectStandardOutput = true };
        using Process process = Process.Start(start)!;
        string error = await process.StandardError.ReadToEndAsync() + await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal(2, process.ExitCode);
        string[] known = [.. KnownFlags().Match(error).Groups["flags"].Value.Split(", ").Select(f => f.Trim())];
        Assert.Contains("--leader-election", known);
        return known;
    }

    private static JsonNode? Lookup(JsonNode node, string path) => path.Length == 0 ? node :
        path.Split('.').Aggregate<string, JsonNode?>(node, (current, key) => current is JsonObject obj ? obj[key] : null);

    private static bool HasKey(JsonNode node, string path)
    {
        string[] keys = path.Split('.');
        return Lookup(node, string.Join('.', keys[..^1])) is JsonObject parent && parent.ContainsKey(keys[^1]);
    }

    private static IEnumerable<string> Leaves(JsonNode? node, string path) => node is JsonObject obj && obj.Count > 0
        ? obj.SelectMany(p => Leaves(p.Value, path.Length == 0 ? p.Key : $"{path}.{p.Key}"))
        : [path];

    [GeneratedRegex(@"\{\{-?\s*/\*.*?\*/\s*-?\}\}", RegexOptions.Singleline)]
    private static partial Regex TemplateComment();

    [GeneratedRegex(@"^\s*(\{\{.*?\}\}\s*)+$")]
    private static partial Regex ActionOnlyLine();

    [GeneratedRegex(@"\{\{.*?\}\}")]
    private static partial Regex Action();

    [GeneratedRegex(@"\.Values\.(?<path>[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*)")]
    private static partial Regex ValuesReference();

    [GeneratedRegex(@"--[a-z-]+(?==\{\{)")]
    private static partial Regex FlagInTemplate();

    [GeneratedRegex(@"known: (?<flags>--[a-z-]+(, --[a-z-]+)*)")]
    private static partial Regex KnownFlags();
}
