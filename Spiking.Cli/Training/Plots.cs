using System;
using System.Collections.Generic;
using System.Globalization;
using ScottPlot;

namespace Spiking.Cli.Training;

/// <summary>PNG charts of a training run (ScottPlot 5): loss and accuracy curves, a spike raster, firing rates per layer.</summary>
public static class Plots
{
    /// <summary>
    /// Two stacked panels sharing the step axis: the loss of every training step, and the training accuracy of every
    /// step with the test accuracy of each epoch marked at the step that ends it.
    /// </summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="stepLoss">The loss of each training step.</param>
    /// <param name="stepAccuracy">The training accuracy of each step (a fraction), as many as <paramref name="stepLoss"/>.</param>
    /// <param name="epochTestAccuracy">The test accuracy after each epoch (a fraction); may be empty.</param>
    /// <param name="stepsPerEpoch">Steps per epoch, placing the test points; 0 spreads the epochs evenly over the steps.</param>
    /// <param name="title">The chart's title.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <exception cref="ArgumentException">No steps, the step lists differ in length, a negative <paramref name="stepsPerEpoch"/>, or a size under 100 pixels.</exception>
    public static void TrainingCurves(string path, IReadOnlyList<double> stepLoss, IReadOnlyList<double> stepAccuracy,
        IReadOnlyList<double> epochTestAccuracy, int stepsPerEpoch = 0, string title = "Training", int width = 1000, int height = 800)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        CheckSize(width, height);
        if (stepLoss.Count == 0) throw new ArgumentException("TrainingCurves needs at least one step in 'stepLoss'; it is empty.", nameof(stepLoss));
        if (stepAccuracy.Count != stepLoss.Count)
        {
            throw new ArgumentException($"TrainingCurves: 'stepAccuracy' has {stepAccuracy.Count} values but 'stepLoss' has {stepLoss.Count}; one of each per step is expected.", nameof(stepAccuracy));
        }
        ArgumentOutOfRangeException.ThrowIfNegative(stepsPerEpoch);

        var steps = new double[stepLoss.Count];
        for (int i = 0; i < steps.Length; i++) steps[i] = i + 1;
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        var lossPlot = multiplot.GetPlot(0);
        var accuracyPlot = multiplot.GetPlot(1);

        var loss = lossPlot.Add.ScatterLine(steps, ToArray(stepLoss));
        loss.LegendText = "training loss (per step)";
        lossPlot.Title(title);
        lossPlot.YLabel("loss");
        lossPlot.XLabel("step");
        lossPlot.ShowLegend(Alignment.UpperRight);

        var train = accuracyPlot.Add.ScatterLine(steps, Percent(stepAccuracy));
        train.LegendText = "training accuracy (per step)";
        if (epochTestAccuracy.Count > 0)
        {
            double every = stepsPerEpoch > 0 ? stepsPerEpoch : (double)steps.Length / epochTestAccuracy.Count;
            var epochEnds = new double[epochTestAccuracy.Count];
            for (int e = 0; e < epochEnds.Length; e++) epochEnds[e] = (e + 1) * every;
            var test = accuracyPlot.Add.Scatter(epochEnds, Percent(epochTestAccuracy));
            test.LegendText = "test accuracy (per epoch)";
            test.MarkerSize = 9;
            test.LineWidth = 2;
        }
        accuracyPlot.YLabel("accuracy (%)");
        accuracyPlot.XLabel("step");
        accuracyPlot.ShowLegend(Alignment.LowerRight);
        multiplot.SharedAxes.ShareX([lossPlot, accuracyPlot]);
        multiplot.SavePng(path, width, height);
    }

    /// <summary>
    /// The loss of every training step of a language model with its mean over the last <paramref name="window"/>
    /// steps (the reference script's log figure), in nats on the left and bits per character on the right.
    /// </summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="stepLoss">The loss (nats) of each step.</param>
    /// <param name="title">The chart's title.</param>
    /// <param name="window">Steps in the running mean, ≥ 1.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <exception cref="ArgumentException">No steps, a window under 1, or a size under 100 pixels.</exception>
    public static void LossCurve(string path, IReadOnlyList<double> stepLoss, string title = "Training loss", int window = 100, int width = 1000, int height = 600)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(stepLoss);
        CheckSize(width, height);
        if (stepLoss.Count == 0) throw new ArgumentException("LossCurve needs at least one step in 'stepLoss'; it is empty.", nameof(stepLoss));
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        var steps = new double[stepLoss.Count];
        var mean = new double[stepLoss.Count];
        double sum = 0;
        for (int i = 0; i < steps.Length; i++)
        {
            steps[i] = i + 1;
            sum += stepLoss[i];
            if (i >= window) sum -= stepLoss[i - window];
            mean[i] = sum / Math.Min(i + 1, window);
        }
        var plot = new Plot();
        var raw = plot.Add.ScatterLine(steps, ToArray(stepLoss));
        raw.LegendText = "loss per step";
        raw.LineWidth = 1;
        raw.Color = Colors.SteelBlue.WithAlpha(0.4);
        var smooth = plot.Add.ScatterLine(steps, mean);
        smooth.LegendText = string.Create(CultureInfo.InvariantCulture, $"mean of the last {window} steps");
        smooth.LineWidth = 2;
        smooth.Color = Colors.DarkBlue;
        plot.Title(title);
        plot.XLabel("step");
        plot.YLabel("cross-entropy (nats; bits per character = nats / ln 2)");
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, width, height);
    }

    /// <summary>
    /// The spikes of one sample, one panel per layer stacked top to bottom: time step on x, neuron index on y, one
    /// square per spike.
    /// </summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="title">The chart's title (shown above the first panel).</param>
    /// <param name="layers">Each layer's name and its spikes indexed <c>[time, neuron]</c>.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="heightPerLayer">Height of each panel in pixels.</param>
    /// <exception cref="ArgumentException">No layers, a layer with no time steps or no neurons, or a size under 100 pixels.</exception>
    public static void SpikeRaster(string path, string title, IReadOnlyList<(string Layer, bool[,] SpikesTimeByNeuron)> layers,
        int width = 1000, int heightPerLayer = 300)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        CheckSize(width, heightPerLayer);
        if (layers.Count == 0) throw new ArgumentException("SpikeRaster needs at least one layer; 'layers' is empty.", nameof(layers));
        var multiplot = new Multiplot();
        multiplot.AddPlots(layers.Count);
        for (int l = 0; l < layers.Count; l++)
        {
            var (name, spikes) = layers[l];
            int steps = spikes.GetLength(0), neurons = spikes.GetLength(1);
            if (steps == 0 || neurons == 0)
            {
                throw new ArgumentException($"SpikeRaster: layer '{name}' has spikes of shape [{steps}, {neurons}]; at least one time step and one neuron are expected.", nameof(layers));
            }
            var xs = new List<double>();
            var ys = new List<double>();
            for (int t = 0; t < steps; t++)
            {
                for (int n = 0; n < neurons; n++)
                {
                    if (!spikes[t, n]) continue;
                    xs.Add(t);
                    ys.Add(n);
                }
            }
            var plot = multiplot.GetPlot(l);
            if (xs.Count > 0)
            {
                // A square about one neuron row high, so dense layers read as a raster rather than overlapping blots.
                float size = (float)Math.Clamp((heightPerLayer - 80.0) / neurons, 1.5, 10.0);
                var markers = plot.Add.Markers(xs.ToArray(), ys.ToArray(), MarkerShape.FilledSquare, size, Colors.Black);
                markers.LegendText = "";
            }
            double rate = (double)xs.Count / ((double)steps * neurons);
            plot.Axes.SetLimits(-0.5, steps - 0.5, -0.5, neurons - 0.5);
            plot.YLabel(string.Create(CultureInfo.InvariantCulture, $"{name} neuron (rate {rate:0.000})"));
            plot.XLabel("time step");
            if (l == 0) plot.Title(title);
        }
        multiplot.SavePng(path, width, heightPerLayer * layers.Count);
    }

    /// <summary>A bar per layer: the fraction of neuron-steps that spiked, with the value written on the bar.</summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="rates">Each layer's name and firing rate (a fraction).</param>
    /// <param name="title">The chart's title.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <exception cref="ArgumentException">No layers, a rate that is negative or not finite, or a size under 100 pixels.</exception>
    public static void FiringRates(string path, IReadOnlyList<(string Layer, double Rate)> rates, string title = "Firing rate per layer",
        int width = 800, int height = 500)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        CheckSize(width, height);
        if (rates.Count == 0) throw new ArgumentException("FiringRates needs at least one layer; 'rates' is empty.", nameof(rates));
        var plot = new Plot();
        var bars = new List<Bar>(rates.Count);
        var positions = new double[rates.Count];
        var labels = new string[rates.Count];
        double top = 0;
        for (int i = 0; i < rates.Count; i++)
        {
            var (name, rate) = rates[i];
            if (!double.IsFinite(rate) || rate < 0)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"FiringRates: layer '{name}' has rate {rate}; a finite value >= 0 is expected."), nameof(rates));
            }
            bars.Add(new Bar
            {
                Position = i,
                Value = rate,
                Label = rate.ToString("0.000", CultureInfo.InvariantCulture),
                FillColor = Colors.SteelBlue,
            });
            positions[i] = i;
            labels[i] = name;
            top = Math.Max(top, rate);
        }
        plot.Add.Bars(bars);
        plot.Axes.Bottom.SetTicks(positions, labels);
        // Long dotted names (a transformer has a neuron per projection) are turned up the axis so they don't overlap.
        int longest = 0;
        foreach (var label in labels) longest = Math.Max(longest, label.Length);
        if (rates.Count * longest > 80)
        {
            plot.Axes.Bottom.TickLabelStyle.Rotation = -60;
            plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
            plot.Axes.Bottom.MinimumSize = 7 * longest;
            height += 7 * longest;
        }
        plot.Axes.SetLimits(-0.6, rates.Count - 0.4, 0, top > 0 ? top * 1.15 : 1);
        plot.Title(title);
        plot.YLabel("firing rate (spikes per neuron per step)");
        plot.XLabel("layer");
        plot.SavePng(path, width, height);
    }

    private static void CheckSize(int width, int height)
    {
        if (width < 100 || height < 100)
        {
            throw new ArgumentException($"Plot size {width}x{height} pixels is too small; at least 100x100 is expected.", nameof(width));
        }
    }

    private static double[] ToArray(IReadOnlyList<double> values)
    {
        var a = new double[values.Count];
        for (int i = 0; i < a.Length; i++) a[i] = values[i];
        return a;
    }

    private static double[] Percent(IReadOnlyList<double> fractions)
    {
        var a = new double[fractions.Count];
        for (int i = 0; i < a.Length; i++) a[i] = 100.0 * fractions[i];
        return a;
    }
}
