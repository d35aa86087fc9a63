using System.Text.RegularExpressions;

namespace DesLoc.Operator.Tests.Chart;

/// <summary>
/// No Docker engine runs here, so each Dockerfile's build stage is replayed: its COPY lines fill a fresh context
/// (without bin/ and obj/, as .dockerignore leaves them out) and its exact `dotnet publish` line runs there.
/// </summary>
public sealed partial class DockerfilePublishTests
{
    [Fact]
    public async Task OperatorDockerfile_PublishesDeslocOperator_AndRunsItNonRootWithServe()
    {
        string dockerfile = File.ReadAllText(RepoFiles.Path("Dockerfile.operator"));
        Assert.Contains("FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build", dockerfile);
        Assert.Contains("FROM mcr.microsoft.com/dotnet/aspnet:10.0", dockerfile);
        Assert.Contains("ENTRYPOINT [\"/app/desloc-operator\"]", dockerfile);
        Assert.Contains("CMD [\"serve\"]", dockerfile);
        AssertNumericNonRootUser(dockerfile);

        string context = Directory.CreateTempSubdirectory("desloc-docker-context-").FullName;
        try
        {
            string output = await PublishAsync(dockerfile, "/app", new Dictionary<string, string>(), context);

            AssertExecutable(Path.Combine(output, "desloc-operator"));
            Assert.True(File.Exists(Path.Combine(output, "KubernetesClient.dll")));
            // DesLocBuildTrainer=false keeps TorchSharp out of the operator image.
            Assert.False(File.Exists(Path.Combine(output, "TorchSharp.dll")), "the operator image must not carry TorchSharp");
        }
        finally
        {
            Directory.Delete(context, recursive: true);
        }
    }

    /// <summary>The CUDA TorchSharp package is not served here, so the trainer's line runs with its CPU build argument.</summary>
    [Fact]
    public async Task TrainerDockerfile_PublishesDeslocTrainer_WithTheTorchBackendBuildArgument()
    {
        string dockerfile = File.ReadAllText(RepoFiles.Path("Dockerfile.trainer"));
        Assert.Contains("ARG TORCH_BACKEND=cuda", dockerfile);
        Assert.Matches(@"(?m)^ARG BASE_IMAGE=nvidia/cuda:12\.[0-9.]+-[a-z-]+-ubuntu24\.04$", dockerfile);
        Assert.Contains("COPY --from=runtime /usr/share/dotnet /usr/share/dotnet", dockerfile);
        Assert.Contains("ENTRYPOINT [\"/app/desloc-trainer\"]", dockerfile);
        AssertNumericNonRootUser(dockerfile);

        string context = Directory.CreateTempSubdirectory("desloc-docker-context-").FullName;
        try
        {
            string output = await PublishAsync(dockerfile, "/app", new Dictionary<string, string> { ["TORCH_BACKEND"] = "cpu" }, context);

            AssertExecutable(Path.Combine(output, "desloc-trainer"));
            Assert.True(File.Exists(Path.Combine(output, "TorchSharp.dll")));
            Assert.NotEmpty(Directory.GetFiles(output, "libtorch*.so*", SearchOption.AllDirectories));
        }
        finally
        {
            Directory.Delete(context, recursive: true); // the trainer's publish output is about 1 GB
        }
    }

    [Fact]
    public void DockerIgnore_KeepsBuildOutputsAndTestsOutOfTheContext()
    {
        string[] lines = File.ReadAllLines(RepoFiles.Path(".dockerignore"));
        Assert.Contains("**/bin/", lines);
        Assert.Contains("**/obj/", lines);
        Assert.DoesNotContain("!tests/", lines);
    }

    /// <summary>Replays the build stage in <paramref name="context"/>; returns the publish output folder.</summary>
    private static async Task<string> PublishAsync(string dockerfile, string imageOutput, Dictionary<string, string> buildArguments, string context)
    {
        string[] instructions = Instructions(dockerfile);
        string publish = instructions.Single(i => i.StartsWith("RUN ", StringComparison.Ordinal) && i.Contains("dotnet publish", StringComparison.Ordinal));
        string output = Path.Combine(context, "publish-output");
        foreach (string copy in instructions.Where(i => i.StartsWith("COPY ", StringComparison.Ordinal) && !i.Contains("--from", StringComparison.Ordinal)))
        {
            string[] parts = copy.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..];
            foreach (string source in parts[..^1])
            {
                CopyIntoContext(source, parts[^1], context);
            }
        }

        // The ARG defaults of the file, overridden like --build-arg.
        foreach (Match arg in ArgLine().Matches(dockerfile))
        {
            buildArguments.TryAdd(arg.Groups["name"].Value, arg.Groups["value"].Value);
        }

        string command = MountFlag().Replace(publish["RUN ".Length..], "").Trim();
        command = ArgReference().Replace(command, m => buildArguments[m.Groups["name"].Value]);
        string[] words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("dotnet", words[0]);
        int outputFlag = Array.IndexOf(words, "-o");
        Assert.True(outputFlag > 0 && words[outputFlag + 1] == imageOutput, $"'{command}' must publish to {imageOutput} (-o), where the runtime stage copies from.");
        words[outputFlag + 1] = output;

        ToolResult result = await Tool.RunAsync("dotnet", "dotnet-sdk-10.0", words[1..], context, timeout: TimeSpan.FromMinutes(8));
        Assert.True(result.ExitCode == 0, $"{command}: {result}");
        return output;
    }

    private static void CopyIntoContext(string source, string destination, string context)
    {
        string from = RepoFiles.Path(source.TrimEnd('/'));
        string to = Path.Combine(context, destination == "./" ? "" : destination.TrimEnd('/'));
        if (File.Exists(from))
        {
            Directory.CreateDirectory(to);
            File.Copy(from, Path.Combine(to, Path.GetFileName(from)));
            return;
        }

        Assert.True(Directory.Exists(from), $"COPY {source}: no such file or folder in the repository.");
        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(from, file);
            if (relative.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"))
            {
                continue;
            }

            string target = Path.Combine(to, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    /// <summary>Instructions with their continuation lines joined, comments dropped.</summary>
    private static string[] Instructions(string dockerfile) =>
        [.. Regex.Replace(dockerfile, @"\\\r?\n\s*", " ")
            .Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#'))];

    private static void AssertNumericNonRootUser(string dockerfile)
    {
        Match user = Regex.Match(dockerfile, @"(?m)^USER (?<uid>[0-9]+)(:[0-9]+)?$");
        Assert.True(user.Success, "USER must be numeric, so that Kubernetes can verify runAsNonRoot.");
        Assert.NotEqual("0", user.Groups["uid"].Value);
    }

    private static void AssertExecutable(string path)
    {
        Assert.True(File.Exists(path), $"{path} was not published.");
        if (!OperatingSystem.IsWindows())
        {
            Assert.True((File.GetUnixFileMode(path) & UnixFileMode.UserExecute) != 0, $"{path} is not executable.");
        }
    }

    [GeneratedRegex(@"--mount=\S+")]
    private static partial Regex MountFlag();

    [GeneratedRegex(@"\$\{(?<name>[A-Z_]+)\}")]
    private static partial Regex ArgReference();

    [GeneratedRegex(@"(?m)^ARG (?<name>[A-Z_]+)=(?<value>\S+)$")]
    private static partial Regex ArgLine();
}
