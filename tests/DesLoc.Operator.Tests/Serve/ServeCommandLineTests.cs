namespace DesLoc.Operator.Tests.Serve;

/// <summary>
/// `serve`'s flags through the operator's own command line (<see cref="OperatorCommandLine"/>, what Program.cs runs):
/// what a valid command line sets, and what a malformed one is refused with (exit 2, the flag named, nothing run).
/// </summary>
public sealed class ServeCommandLineTests
{
    [Fact]
    public void Parse_EveryServeFlag_ReadsIntoTheOperatorsSettings()
    {
        var parsed = OperatorCommandLine.Parse(["serve", "--server", "https://127.0.0.1:6443", "--namespace", "ml", "--workers", "8",
            "--leader-election=false", "--metrics-port", "9090", "--lease-namespace", "ops", "--identity", "operator-1"]);

        Assert.Empty(parsed.Errors);
        ServeCommand.Settings settings = ServeCommand.Read(parsed);
        Assert.Equal("https://127.0.0.1:6443", settings.Server);
        Assert.Equal(9090, settings.MetricsPort);
        Assert.Equal("ml", settings.Options.Namespace);
        Assert.Equal(8, settings.Options.Workers);
        Assert.False(settings.Options.LeaderElection);
        Assert.Equal("ops", settings.Options.LeaseNamespace);
        Assert.Equal("operator-1", settings.Options.Identity);
    }

    [Theory]
    [InlineData("", true)]
    [InlineData("--leader-election", true)]              // bare: on
    [InlineData("--leader-election false", false)]
    [InlineData("--leader-election=true", true)]
    public void Parse_LeaderElection_IsASwitchThatDefaultsToOn(string flags, bool expected)
    {
        var parsed = OperatorCommandLine.Parse(["serve", .. flags.Split(' ', StringSplitOptions.RemoveEmptyEntries)]);

        Assert.Empty(parsed.Errors);
        ServeCommand.Settings settings = ServeCommand.Read(parsed);
        Assert.Equal(expected, settings.Options.LeaderElection);
        Assert.Equal((4, 8080, null), (settings.Options.Workers, settings.MetricsPort, settings.Options.Namespace));
    }

    [Theory]
    [InlineData(new[] { "--workers", "0" }, "--workers takes a positive whole number, not '0'.")]
    [InlineData(new[] { "--metrics-port=http" }, "--metrics-port takes a positive whole number, not 'http'.")]
    [InlineData(new[] { "--leader-election", "maybe" }, "--leader-election takes true or false, not 'maybe'.")]
    [InlineData(new[] { "--namespace" }, "'--namespace'")]
    [InlineData(new[] { "--leader-elect" }, "Unknown flag --leader-elect; known: --namespace, --metrics-port, --leader-election, --lease-namespace, --identity, --workers, --server, --operator-pod-labels, --metrics-scraper-namespace-labels, --metrics-scraper-pod-labels.")]
    [InlineData(new[] { "--metrics-scraper-pod-labels", "app.kubernetes.io/name" }, "--metrics-scraper-pod-labels takes labels as key=value pairs separated by commas, not 'app.kubernetes.io/name'.")]
    [InlineData(new[] { "--metrics-scraper-namespace-labels=a=b,=monitoring" }, "--metrics-scraper-namespace-labels takes labels as key=value pairs separated by commas, not 'a=b,=monitoring'.")]
    [InlineData(new[] { "--operator-pod-labels", "app" }, "--operator-pod-labels takes labels as key=value pairs separated by commas, not 'app'.")]
    [InlineData(new[] { "--metrics-scraper-pod-labels", "a b=prometheus" }, "--metrics-scraper-pod-labels takes Kubernetes labels, and label key 'a b' has a name that is not alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character.")]
    [InlineData(new[] { "--metrics-scraper-namespace-labels=Monitoring.io/team=ml" }, "--metrics-scraper-namespace-labels takes Kubernetes labels, and label key 'Monitoring.io/team' has a prefix that is not a DNS subdomain")]
    [InlineData(new[] { "--operator-pod-labels", "app=a123456789b123456789c123456789d123456789e123456789f123456789g123" }, "--operator-pod-labels takes Kubernetes labels, and label value 'a123456789b123456789c123456789d123456789e123456789f123456789g123' (of 'app') is longer than 63 characters.")]
    [InlineData(new[] { "--operator-pod-labels", "app=-x" }, "--operator-pod-labels takes Kubernetes labels, and label value '-x' (of 'app') is neither empty nor alphanumeric characters")]
    [InlineData(new[] { "--workers", "2", "extra" }, "Unexpected argument 'extra'.")]
    public async Task InvokeAsync_MalformedServeCommandLine_Exits2WithTheFlagNamedAndNoStackTrace(string[] flags, string message)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        int code = await OperatorCommandLine.InvokeAsync(["serve", .. flags], output, error);

        Assert.Equal(2, code);
        Assert.Contains(message, error.ToString());
        Assert.DoesNotContain("   at ", error.ToString());
        Assert.Empty(output.ToString());
    }

    [Fact]
    public void Parse_LabelFlags_TakePrefixedKeysAndEmptyValues()
    {
        var parsed = OperatorCommandLine.Parse(["serve", "--metrics-scraper-pod-labels", "app.kubernetes.io/name=prometheus,scrape=",
            "--metrics-scraper-namespace-labels=kubernetes.io/metadata.name=monitoring", "--operator-pod-labels", "app.kubernetes.io/instance=desloc"]);

        Assert.Empty(parsed.Errors);
        ServeCommand.Settings settings = ServeCommand.Read(parsed);
        Assert.Equal(new Dictionary<string, string> { ["app.kubernetes.io/name"] = "prometheus", ["scrape"] = "" }, settings.Options.MetricsScraper.PodLabels);
        Assert.Equal(new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = "monitoring" }, settings.Options.MetricsScraper.NamespaceLabels);
        Assert.Equal(new Dictionary<string, string> { ["app.kubernetes.io/instance"] = "desloc" }, settings.Options.OperatorPeer.PodLabels);
    }

    [Fact]
    public async Task InvokeAsync_Help_ListsEveryVerbWithEveryFlag()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        int code = await OperatorCommandLine.InvokeAsync(["--help"], output, error);

        Assert.Equal(0, code);
        string help = output.ToString();
        Assert.Contains("desloc-operator run FILE [--trainer PATH] [--run-dir DIR]", help);
        Assert.Contains("desloc-operator serve [--namespace NS] [--metrics-port N] [--leader-election true|false] [--lease-namespace NS] [--identity NAME] [--workers N] [--server URL]", help);
        Assert.Contains("desloc-operator crd [--output DIR]", help);
        Assert.Empty(error.ToString());
    }
}
