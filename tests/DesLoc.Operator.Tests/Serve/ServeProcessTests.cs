using System.Diagnostics;
using System.Net;
using DesLoc.Operator.Local;
using DesLoc.Testing;

namespace DesLoc.Operator.Tests.Serve;

/// <summary>The `desloc-operator serve` executable itself: flags, health, readiness and metrics endpoints.</summary>
public sealed class ServeProcessTests
{
    private static Process Start(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
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
