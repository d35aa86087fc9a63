using DesLoc.Operator.Api.Schema;

namespace DesLoc.Operator.Tests.Local;

/// <summary>
/// The `run` and `crd` verbs through the operator's own command line (<see cref="OperatorCommandLine"/>, what
/// Program.cs runs): a valid command line, and refusals with exit 2 that name the flag before anything runs.
/// </summary>
public sealed class OperatorCommandLineTests
{
    [Fact]
    public void Parse_RunWithItsFlags_ReadsTheManifestTrainerAndRunDirectory()
    {
        var parsed = OperatorCommandLine.Parse(["run", "samples/desloc.yaml", "--trainer", "/opt/desloc-trainer.dll", "--run-dir=runs/one"]);

        Assert.Empty(parsed.Errors);
        Assert.Equal(new RunCommand.Settings("samples/desloc.yaml", "/opt/desloc-trainer.dll", "runs/one"), RunCommand.Read(parsed));
        Assert.Equal(new RunCommand.Settings("job.yaml", null, null), RunCommand.Read(OperatorCommandLine.Parse(["run", "job.yaml"])));
    }

    [Theory]
    [InlineData(new[] { "run", "job.yaml", "--traner", "t.dll" }, "Unknown flag --traner; known: --trainer, --run-dir.")]
    [InlineData(new[] { "run", "job.yaml", "--run-dir" }, "'--run-dir'")]
    [InlineData(new[] { "run" }, "'run'")]
    [InlineData(new[] { "crd", "--output" }, "'--output'")]
    [InlineData(new[] { "crd", "--out", "crds" }, "Unknown flag --out; known: --output.")]
    [InlineData(new[] { "deploy" }, "Unknown verb 'deploy'; verbs: run, serve, crd.")]
    public async Task InvokeAsync_MalformedCommandLine_Exits2WithTheFlagNamedAndRunsNothing(string[] args, string message)
    {
        string directory = Directory.CreateTempSubdirectory("desloc-cli-").FullName;
        string current = Environment.CurrentDirectory;
        using var output = new StringWriter();
        using var error = new StringWriter();
        try
        {
            int code = await OperatorCommandLine.InvokeAsync([.. args.Select(a => a == "crds" ? Path.Combine(directory, a) : a)], output, error);

            Assert.Equal(2, code);
            Assert.Contains(message, error.ToString());
            Assert.DoesNotContain("   at ", error.ToString());
            Assert.Empty(Directory.EnumerateFileSystemEntries(directory));
            Assert.False(Directory.Exists(Path.Combine(current, ".desloc", "job")));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task InvokeAsync_CrdWithOutput_WritesTheGeneratedCrdThere()
    {
        string directory = Path.Combine(Directory.CreateTempSubdirectory("desloc-crd-").FullName, "crds");
        using var output = new StringWriter();
        using var error = new StringWriter();
        try
        {
            int code = await OperatorCommandLine.InvokeAsync(["crd", "--output", directory], output, error);

            Assert.Equal(0, code);
            Assert.Equal(CrdGenerator.LowCommJobYaml(), await File.ReadAllTextAsync(Path.Combine(directory, CrdGenerator.FileName)));
            Assert.Empty(error.ToString());
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(directory)!, recursive: true);
        }
    }

    [Fact]
    public async Task InvokeAsync_CrdAlone_PrintsTheGeneratedCrd()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        int code = await OperatorCommandLine.InvokeAsync(["crd"], output, error);

        Assert.Equal(0, code);
        Assert.Equal(CrdGenerator.LowCommJobYaml(), output.ToString());
    }
}
