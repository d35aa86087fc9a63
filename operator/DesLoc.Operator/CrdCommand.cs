using System.CommandLine;
using DesLoc.Operator.Api.Schema;

namespace DesLoc.Operator;

/// <summary>`crd [--output DIR]`: print the generated CustomResourceDefinition, or write it to DIR.</summary>
internal static class CrdCommand
{
    private static readonly Option<string> s_output = new("--output")
    {
        Description = $"Write {CrdGenerator.FileName} to this directory instead of printing it.",
        HelpName = "DIR",
    };

    public static Command Command { get; } = Build();

    private static Command Build()
    {
        var command = new Command("crd", "Print the CustomResourceDefinition (or write it to DIR).") { s_output };
        command.SetAction(parsed => Write(parsed.GetValue(s_output), parsed.InvocationConfiguration.Output));
        return command;
    }

    private static int Write(string? directory, TextWriter output)
    {
        if (directory is null)
        {
            output.Write(CrdGenerator.LowCommJobYaml());
            return 0;
        }

        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, CrdGenerator.FileName), CrdGenerator.LowCommJobYaml());
        return 0;
    }
}
