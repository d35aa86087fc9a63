using System.Globalization;

namespace DesLoc.Bench;

/// <summary>A mean with its two-sided 95 % Student-t interval over a handful of seeds: every table's intervals.</summary>
internal readonly record struct Interval(double Mean, double HalfWidth, int Count)
{
    // t(0.975, n − 1) for n = 1..6.
    private static readonly double[] s_t95 = [double.NaN, 12.706, 4.303, 3.182, 2.776, 2.571];

    public double Low => Mean - HalfWidth;

    public double High => Mean + HalfWidth;

    public static Interval Of(IReadOnlyList<double> values)
    {
        double mean = values.Average();
        if (values.Count < 2)
        {
            return new Interval(mean, double.NaN, values.Count);
        }

        double sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        double t = values.Count < s_t95.Length ? s_t95[values.Count - 1] : 1.96;
        return new Interval(mean, t * sd / Math.Sqrt(values.Count), values.Count);
    }

    /// <summary>The interval of the paired differences a[i] − b[i] (the same seed on both sides).</summary>
    public static Interval Paired(IReadOnlyList<double> a, IReadOnlyList<double> b) => Of([.. a.Zip(b, (x, y) => x - y)]);

    /// <summary>Whether the whole interval lies inside ±margin (equivalence at that margin).</summary>
    public bool Inside(double margin) => Low > -margin && High < margin;

    /// <summary>"mean ± half-width", unsigned (a loss).</summary>
    public string Plain() => double.IsNaN(HalfWidth)
        ? string.Create(CultureInfo.InvariantCulture, $"{Mean:0.0000}")
        : string.Create(CultureInfo.InvariantCulture, $"{Mean:0.0000} ± {HalfWidth:0.0000}");

    /// <summary>"±mean ± half-width", signed (a difference).</summary>
    public override string ToString()
    {
        double mean = Math.Round(Mean, 4);   // so that a tiny negative prints as 0.0000, not -+0.0000
        return double.IsNaN(HalfWidth)
            ? string.Create(CultureInfo.InvariantCulture, $"{mean:+0.0000;-0.0000;0.0000}")
            : string.Create(CultureInfo.InvariantCulture, $"{mean:+0.0000;-0.0000;0.0000} ± {HalfWidth:0.0000}");
    }
}
