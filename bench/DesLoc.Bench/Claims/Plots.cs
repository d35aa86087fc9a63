using System.Globalization;
using ScottPlot;

namespace DesLoc.Bench.Claims;

/// <summary>PNG line plots of the runs' status samples, one line per method.</summary>
internal static class Plots
{
    /// <summary>A line per series; <paramref name="logX"/> plots log10 of x with ticks labelled in x's own units.</summary>
    public static void Lines(
        string path, string title, string xLabel, string yLabel,
        IEnumerable<(string Name, double[] X, double[] Y)> series, bool logX = false, Func<double, string>? xFormat = null)
    {
        var plot = new Plot();
        plot.Add.Palette = new ScottPlot.Palettes.Category20();   // more methods than the default palette's 10 colours
        foreach ((string name, double[] x, double[] y) in series)
        {
            double[] xs = logX ? [.. x.Select(v => Math.Log10(Math.Max(v, 1)))] : x;
            if (xs.Length == 0)
            {
                continue;
            }

            var line = plot.Add.Scatter(xs, y);
            line.LegendText = name;
            line.MarkerSize = 0;
            line.LineWidth = 2;
        }

        if (logX)
        {
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
            {
                IntegerTicksOnly = true,
                LabelFormatter = v => (xFormat ?? (b => b.ToString("G3", CultureInfo.InvariantCulture)))(Math.Pow(10, v)),
            };
        }

        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, 1000, 620);
    }

    /// <summary>
    /// One marker per labelled point with a vertical error bar, x on a log10 axis labelled in bytes: a Pareto view where
    /// lower left is better.
    /// </summary>
    public static void Points(string path, string title, string xLabel, string yLabel, IEnumerable<(string Name, double X, double Y, double Error)> points)
    {
        var plot = new Plot();
        plot.Add.Palette = new ScottPlot.Palettes.Category20();
        foreach ((string name, double x, double y, double error) in points)
        {
            double lx = Math.Log10(Math.Max(x, 1));
            var marker = plot.Add.Scatter(new[] { lx }, new[] { y });
            marker.LegendText = name;
            marker.MarkerSize = 9;
            marker.LineWidth = 0;
            if (double.IsFinite(error))
            {
                var bar = plot.Add.ErrorBar(new[] { lx }, new[] { y }, new[] { error });
                bar.Color = marker.Color;
            }
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            LabelFormatter = v => DesLoc.Trainer.Training.ByteFormat.Bytes((long)Math.Pow(10, v)),
        };
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, 1100, 700);
    }

    /// <summary>Stacked panels sharing a time axis (the adaptive run: bandwidth, period, comm fraction).</summary>
    public static void Panels(string path, string title, string xLabel, IReadOnlyList<(string YLabel, IReadOnlyList<(string Name, double[] X, double[] Y)> Series)> panels)
    {
        var multi = new Multiplot();
        multi.AddPlots(panels.Count);
        for (int i = 0; i < panels.Count; i++)
        {
            Plot plot = multi.GetPlot(i);
            foreach ((string name, double[] x, double[] y) in panels[i].Series)
            {
                var line = plot.Add.Scatter(x, y);
                line.LegendText = name;
                line.MarkerSize = 3;
                line.LineWidth = 2;
            }

            plot.YLabel(panels[i].YLabel);
            plot.ShowLegend(Alignment.UpperRight);
            if (i == 0)
            {
                plot.Title(title);
            }

            if (i == panels.Count - 1)
            {
                plot.XLabel(xLabel);
            }
        }

        multi.SavePng(path, 1000, 300 * panels.Count);
    }
}
