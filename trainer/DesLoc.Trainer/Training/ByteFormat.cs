using System.Globalization;

namespace DesLoc.Trainer.Training;

internal static class ByteFormat
{
    public static string Bytes(double bytes)
    {
        string[] units = ["B", "KB", "MB", "GB", "TB"];
        int unit = 0;
        while (bytes >= 1000 && unit < units.Length - 1)
        {
            bytes /= 1000;
            unit++;
        }

        return string.Create(CultureInfo.InvariantCulture, $"{bytes:0.##} {units[unit]}");
    }

    public static string Factor(double factor) =>
        double.IsPositiveInfinity(factor) ? "∞" : string.Create(CultureInfo.InvariantCulture, $"{factor:0.#}x");
}
