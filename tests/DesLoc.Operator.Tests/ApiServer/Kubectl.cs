using System.ComponentModel;
using System.Diagnostics;
using DesLoc.Testing.Kubernetes;

namespace DesLoc.Operator.Tests.ApiServer;

/// <summary>
/// Runs kubectl (<c>$KUBECTL</c>, else the one on PATH; Debian's kubernetes-client gives 1.20) against a test API
/// server, with a throwaway HOME (kubectl caches discovery under ~/.kube/cache) and no kubeconfig.
/// </summary>
internal static class Kubectl
{
    public static async Task<(int ExitCode, string Out, string Err)> RunAsync(TestApiServer server, string workDir, params string[] args)
    {
        string home = Path.Combine(workDir, "home-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(home);
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("KUBECTL") ?? "kubectl")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workDir,
        };
        start.ArgumentList.Add("--server=" + server.BaseAddress.ToString().TrimEnd('/'));
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["HOME"] = home;
        start.Environment.Remove("KUBECONFIG");
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("kubectl did not start");
        }
        catch (Win32Exception e)
        {
            Assert.Fail($"kubectl is not installed ({e.Message}): run `apt-get install -y kubernetes-client` (.ci/run does) or set KUBECTL.");
            throw;
        }

        using (process)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            Task<string> stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
            Task<string> stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
            return (process.ExitCode, await stdout, await stderr);
        }
    }
}
