using System.Reflection;

namespace DesLoc.Operator.Local;

/// <summary>The trainer executable that local "pods" run: a flag, then DESLOC_TRAINER, then the one built beside this operator.</summary>
public sealed record TrainerCommand(string FileName, IReadOnlyList<string> Arguments)
{
    public const string Variable = "DESLOC_TRAINER";

    public static TrainerCommand Locate(string? explicitPath)
    {
        string? path = explicitPath
            ?? Environment.GetEnvironmentVariable(Variable)
            ?? typeof(TrainerCommand).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .FirstOrDefault(a => a.Key == "DesLocTrainerPath")?.Value;
        if (path is null || !File.Exists(path))
        {
            throw new FileNotFoundException(
                $"No trainer at '{path}'. Build it (dotnet build trainer/DesLoc.Trainer) or point {Variable} or --trainer at desloc-trainer(.dll).");
        }

        return path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)
            ? new TrainerCommand("dotnet", [path])
            : new TrainerCommand(path, []);
    }
}
