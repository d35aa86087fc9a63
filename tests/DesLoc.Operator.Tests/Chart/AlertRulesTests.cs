using System.Text.Json.Nodes;

namespace DesLoc.Operator.Tests.Chart;

/// <summary>The alerts the chart ships: promtool accepts and unit-tests the very file the PrometheusRule includes.</summary>
public sealed class AlertRulesTests
{
    private static readonly string[] s_requiredAlerts =
        ["DesLocJobBytesOverBudget", "DesLocJobReductionBelowTarget", "DesLocReplicasRestartLoop", "DesLocJobStuckPending", "DesLocOperatorNoLeader"];

    [Fact]
    public async Task PromtoolCheckRules_AcceptsTheRulesFile()
    {
        ToolResult result = await Tool.RunAsync("promtool", "prometheus", ["check", "rules", AlertRules.RulesPath]);

        Assert.True(result.ExitCode == 0, $"promtool check rules failed: {result}");
        Assert.Contains($"SUCCESS: {AlertRules.Rules().Count} rules found", result.Output);
        Assert.Equal(s_requiredAlerts.Order(), AlertRules.AlertNames().Order());
    }

    [Fact]
    public async Task PromtoolTestRules_PassesTheAlertUnitTests()
    {
        ToolResult result = await Tool.RunAsync("promtool", "prometheus", ["test", "rules", AlertRules.TestsPath]);

        Assert.True(result.ExitCode == 0, $"promtool test rules failed: {result}");
        Assert.Contains("SUCCESS", result.Output);
    }

    [Fact]
    public void AlertUnitTests_HaveFiringAndSilentCasesForEveryAlert()
    {
        JsonNode tests = RepoFiles.YamlFile(AlertRules.TestsPath);
        Assert.Equal(["alerts.rules.yaml"], tests["rule_files"]!.AsArray().Select(f => (string)f!));
        var cases = tests["tests"]!.AsArray()
            .SelectMany(t => t!["alert_rule_test"]!.AsArray())
            .Select(c => (Alert: (string)c!["alertname"]!, Fires: (c["exp_alerts"]?.AsArray().Count ?? 0) > 0))
            .ToList();

        foreach (string alert in AlertRules.AlertNames())
        {
            Assert.True(cases.Contains((alert, true)), $"{alert} has no unit test in which it fires.");
            Assert.True(cases.Contains((alert, false)), $"{alert} has no unit test in which it stays silent.");
        }
    }

    [Fact]
    public void PrometheusRuleThresholds_EachReplaceOneNumberOfTheFile_WhoseDefaultIsTheValuesDefault()
    {
        string rules = File.ReadAllText(AlertRules.RulesPath);
        JsonNode thresholds = RepoFiles.YamlFile(RepoFiles.Chart("values.yaml"))["prometheusRule"]!["thresholds"]!;
        IReadOnlyList<Threshold> substituted = AlertRules.Thresholds();

        Assert.Equal(thresholds.AsObject().Select(p => p.Key).Order(), substituted.Select(t => t.Key).Order());
        foreach (Threshold threshold in substituted)
        {
            Assert.True(rules.Split(threshold.Anchor).Length == 2, $"'{threshold.Anchor}' must occur exactly once in alerts.rules.yaml.");
            // Rendered with values.yaml's default, the template leaves the file as promtool tested it.
            Assert.Equal(threshold.Anchor, threshold.Render(Threshold.Invariant(thresholds[threshold.Key]!)));
        }
    }

    public static TheoryData<string, string> OtherThresholds() => new()
    {
        { "bytesBudget", "1000000000000000" },
        { "reductionTarget", "2" },
        { "restartsIn15m", "50" },
        { "pendingMinutes", "60" },
    };

    /// <summary>The unit tests pin each threshold: the rules as the chart would render them with another value fail them.</summary>
    [Theory]
    [MemberData(nameof(OtherThresholds))]
    public async Task PromtoolTestRules_FailsWhenAThresholdChanges(string key, string value)
    {
        Threshold threshold = AlertRules.Thresholds().Single(t => t.Key == key);
        string directory = Directory.CreateTempSubdirectory("desloc-alerts-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(directory, "alerts.rules.yaml"), AlertRules.WithThreshold(threshold, value));
            File.Copy(AlertRules.TestsPath, Path.Combine(directory, "alerts.test.yaml"));

            ToolResult check = await Tool.RunAsync("promtool", "prometheus", ["check", "rules", "alerts.rules.yaml"], directory);
            ToolResult test = await Tool.RunAsync("promtool", "prometheus", ["test", "rules", "alerts.test.yaml"], directory);

            Assert.True(check.ExitCode == 0, $"{key}={value} renders invalid rules: {check}");
            Assert.NotEqual(0, test.ExitCode);
            Assert.Contains("FAILED", test.Output);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
