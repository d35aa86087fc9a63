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
