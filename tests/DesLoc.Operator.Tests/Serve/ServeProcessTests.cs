using System.Diagnostics;
using System.Net;
using DesLoc.Operator.Local;
using DesLoc.Testing;

namespace DesLoc.Operator.Tests.Serve;

/// <summary>The `desloc-operator serve` executable itself: flags, health, readiness and metrics endpoints.</summary>
public sealed class ServeProcessTests
{
    private static Process Start(params string[] arguments) => Start(null, arguments);

    /// <summary>Starts the executable with <paramref name="environment"/> applied (a null value removes the variable).</summary>
    private static Process Start(IReadOnlyDictionary<string, string?>? environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach ((string name, string? value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "desloc-operator.dll"));
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start)!;
    }

    [Fact]
    public async Task Serve_AnswersHealthReadinessAndMetrics_AgainstAnApiServer()
    {
        await using ServeHarness harness = await ServeHarness.StartAsync();
        int port = LoopbackPorts.Free();
        using Process process = Start("serve", "--server", harness.Server.BaseAddress.ToString().TrimEnd('/'), "--namespace", "ml",
            "--leader-election=false", "--metrics-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            bool ready = false;
            await Eventually.TrueAsync(() =>
            {
                try
                {
                    ready = http.GetAsync("/readyz").GetAwaiter().GetResult().StatusCode == HttpStatusCode.OK;
                }
                catch (HttpRequestException)
                {
                }

                return ready;
            }, "the operator is ready", 60);
            Assert.Equal("ok", await http.GetStringAsync("/healthz"));

            await harness.CreateAsync(ServeHarness.Manifest("served"));
            await Eventually.TrueAsync(() => harness.Pods("served").Count == 3, "the process reconciles", 20);
            // The phase count follows the status write, which comes after the pods: wait for it rather than race it.
            string metrics = "";
            await Eventually.TrueAsync(() =>
            {
                metrics = http.GetStringAsync("/metrics").GetAwaiter().GetResult();
                return metrics.Contains("desloc_operator_jobs{phase=\"Pending\"} 1", StringComparison.Ordinal);
            }, "the job is counted as Pending", 20);
            Assert.Contains("desloc_operator_leader 1", metrics);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    /// <summary>A home with no ~/.kube, no $KUBECONFIG and nothing that reads as in-cluster.</summary>
    private static Dictionary<string, string?> Bare(string home, string? kubeconfig = null) => new()
    {
        ["HOME"] = home,
        ["KUBECONFIG"] = kubeconfig,
        ["KUBERNETES_SERVICE_HOST"] = null,
        ["KUBERNETES_SERVICE_PORT"] = null,
    };

    [Fact]
    public async Task Serve_UsesTheKubeconfigNamedByKUBECONFIG_WithNoKubeDirectoryAtHome()
    {
        await using ServeHarness harness = await ServeHarness.StartAsync();
        string home = Directory.CreateTempSubdirectory("desloc-home-").FullName;
        string configs = Directory.CreateTempSubdirectory("desloc-kubeconfig-").FullName;
        string kubeconfig = Path.Combine(configs, "test-cluster.yaml");
        await File.WriteAllTextAsync(kubeconfig, $"""
            apiVersion: v1
            kind: Config
            clusters:
              - name: test
                cluster:
                  server: {harness.Server.BaseAddress.ToString().TrimEnd('/')}
            contexts:
              - name: test
                context:
                  cluster: test
            current-context: test
            """);
        int port = LoopbackPorts.Free();
        using Process process = Start(Bare(home, kubeconfig), "serve", "--namespace", "ml", "--leader-election=false",
            "--metrics-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var error = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { lock (error) { error.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await harness.CreateAsync(ServeHarness.Manifest("configured"));
            await Eventually.TrueAsync(() => process.HasExited || harness.Pods("configured").Count == 3, "the operator reconciles through the kubeconfig's server", 60);
            Assert.False(process.HasExited, $"serve stopped: {error}");
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Directory.Delete(home, recursive: true);
            Directory.Delete(configs, recursive: true);
        }
    }

    [Fact]
    public async Task Serve_WithNoClusterConfigAnywhere_ExitsWith2AndOneLineSayingWhatWasLookedFor()
    {
        string home = Directory.CreateTempSubdirectory("desloc-home-").FullName;
        try
        {
            using Process process = Start(Bare(home), "serve", "--leader-election=false");
            string error = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();

            Assert.Equal(2, process.ExitCode);
            string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            Assert.Contains("--server", line);
            Assert.Contains("KUBECONFIG", line);
            Assert.Contains(Path.Combine(home, ".kube", "config"), line);
            Assert.Contains("in a cluster", line);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    [Fact]
    public async Task Serve_WithKUBECONFIGNamingNoFile_ExitsWith2AndSaysSo()
    {
        string home = Directory.CreateTempSubdirectory("desloc-home-").FullName;
        try
        {
            string missing = Path.Combine(home, "nowhere.yaml");
            using Process process = Start(Bare(home, missing), "serve");
            string error = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();

            Assert.Equal(2, process.ExitCode);
            string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            Assert.Contains($"$KUBECONFIG is '{missing}', but no such file exists", line);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    [Fact]
    public async Task UnknownFlag_StopsWithTheKnownOnesListed()
    {
        using Process process = Start("serve", "--leader-elect");
        string error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.Equal(2, process.ExitCode);
        Assert.Contains("Unknown flag --leader-elect", error);
        Assert.Contains("--leader-election", error);
    }

    [Theory]
    [InlineData("--workers=many", "--workers takes a positive whole number, not 'many'.")]
    [InlineData("--workers", "--workers takes a positive whole number, not 'true'.")]   // a bare flag reads as true
    [InlineData("--leader-election=maybe", "--leader-election takes true or false, not 'maybe'.")]
    public async Task MalformedFlagValue_StopsWithTheFlagNamed(string flag, string message)
    {
        using Process process = Start("serve", flag);
        string error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.Equal(2, process.ExitCode);
        Assert.Contains(message, error);
    }
}
