namespace DesLoc.Operator.Tests.Chart;

/// <summary>yamllint, with the repository's .yamllint, over the chart's plain YAML and samples/.</summary>
public sealed class YamlLintTests
{
    [Fact]
    public async Task ChartAndSamples_PassYamllint()
    {
        ToolResult result = await Tool.RunAsync("yamllint", "yamllint", ["--strict", "-f", "parsable", "charts", "samples", ".yamllint"]);

        Assert.True(result.ExitCode == 0, $"yamllint: {result}");
    }

    [Fact]
    public async Task RepositoryConfig_StillCatchesErrors_AndIgnoresOnlyTemplates()
    {
        // A passing run means something only if the config lints: a duplicate key and a 200-character line fail it.
        string directory = Directory.CreateTempSubdirectory("desloc-yamllint-").FullName;
        try
        {
            string bad = Path.Combine(directory, "bad.yaml");
            File.WriteAllText(bad, $"a: 1\na: 2\nb: {new string('x', 200)}\n");
            ToolResult result = await Tool.RunAsync("yamllint", "yamllint", ["-c", RepoFiles.Path(".yamllint"), "-f", "parsable", bad]);

            Assert.NotEqual(0, result.ExitCode);
            Assert.Contains("key-duplicates", result.Output);
            Assert.Contains("line-length", result.Output);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }

        string ignored = (string)RepoFiles.YamlFile(RepoFiles.Path(".yamllint"))["ignore"]!;
        Assert.Contains("charts/*/templates/", ignored);
        Assert.DoesNotContain("samples", ignored);
        Assert.DoesNotContain("files/", ignored);
    }
}
