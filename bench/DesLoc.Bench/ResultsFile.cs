using System.Globalization;
using System.Runtime.InteropServices;

namespace DesLoc.Bench;

/// <summary>Writes a benchmark's table under bench/results/ with the machine, date and command at its head, and prints it.</summary>
internal static class ResultsFile
{
    public static async Task WriteAsync(string path, string title, string command, string table)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string header = string.Create(CultureInfo.InvariantCulture,
            $"# {title}\n\nMachine: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}; date {DateTime.UtcNow:yyyy-MM-dd}; command `{command}`.\n\n");
        await File.WriteAllTextAsync(path, header + table);
        Console.WriteLine();
        Console.WriteLine(table);
    }
}
