using System.Diagnostics;
using DesLoc.Testing;

namespace DesLoc.Trainer.Tests.Models;

/// <summary>
/// Runs a reference script of this folder with Debian's PyTorch over a directory of inputs and reads back the
/// <c>logits.bin</c> (float32) it writes there. A missing interpreter or torch fails the test with what to install.
/// </summary>
internal static class PyTorchReference
{
    public static float[] Logits(string script, string directory)
    {
        // Debian's python3-torch installs for the system interpreter (.ci/run installs it); another python3 may lack it.
        string python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var start = new ProcessStartInfo(python)
        {
            ArgumentList = { RepositoryFiles.Path("tests", "DesLoc.Trainer.Tests", "Models", script), directory },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"{python} did not start: install python3 and python3-torch.");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        string error = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), $"{script} did not finish in 2 minutes");
        Assert.True(process.ExitCode == 0, $"{script} exited {process.ExitCode} (needs python3 with python3-torch): {output.Result}{error}");

        byte[] bytes = File.ReadAllBytes(Path.Combine(directory, "logits.bin"));
        float[] values = new float[bytes.Length / sizeof(float)];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }
}
