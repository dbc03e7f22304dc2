using System;
using System.Collections.Generic;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Spiking.Cli.Training;

/// <summary>The spiking activity of one layer over an evaluation.</summary>
/// <param name="Layer">The layer's name, e.g. <c>fc1.lif</c>.</param>
/// <param name="FiringRate">Spikes per neuron per time step, a fraction; NaN when not measured (encoded input).</param>
/// <param name="SynapticOperations">Synaptic operations (accumulates driven by spikes) into the next layer, per sample.</param>
public sealed record LayerActivity(string Layer, double FiringRate, double SynapticOperations);

/// <summary>The results of one epoch, printed as tables by <see cref="Write"/>.</summary>
/// <param name="Epoch">The epoch, 1-based.</param>
/// <param name="Epochs">The number of epochs in the run.</param>
/// <param name="TrainLoss">The mean training loss.</param>
/// <param name="TrainAccuracy">The training accuracy, a fraction.</param>
/// <param name="TestAccuracy">The test accuracy, a fraction.</param>
/// <param name="Layers">Firing rate and synaptic operations of each spiking layer.</param>
/// <param name="EnergyJoules">The estimated energy per sample in joules (null when not estimated).</param>
/// <param name="Elapsed">Wall time of the epoch.</param>
/// <param name="MultiplyAccumulates">Multiply–accumulates on dense input per sample (a directly encoded first layer).</param>
public sealed record EpochSummary(int Epoch, int Epochs, double TrainLoss, double TrainAccuracy, double TestAccuracy,
    IReadOnlyList<LayerActivity> Layers, double? EnergyJoules, TimeSpan Elapsed, double MultiplyAccumulates = 0)
{
    /// <summary>The synaptic operations of all layers, per sample.</summary>
    public double SynapticOperations
    {
        get
        {
            double total = 0;
            foreach (var layer in Layers) total += layer.SynapticOperations;
            return total;
        }
    }

    /// <summary>The summary as two tables side by side: the epoch's results, and the activity of each layer.</summary>
    public IRenderable ToRenderable()
    {
        string title = string.Create(CultureInfo.InvariantCulture, $"epoch {Epoch}/{Epochs}");
        var results = new Table().Border(TableBorder.Rounded).Title(title)
            .AddColumn("result")
            .AddColumn(new TableColumn("value").RightAligned());
        AddRow(results, "train loss", TrainLoss.ToString("0.0000", CultureInfo.InvariantCulture));
        AddRow(results, "train accuracy", Percent(TrainAccuracy));
        AddRow(results, "test accuracy", Percent(TestAccuracy));
        AddRow(results, "synaptic ops / sample", Si(SynapticOperations, ""));
        AddRow(results, "MACs / sample", Si(MultiplyAccumulates, ""));
        AddRow(results, "energy / sample", EnergyJoules is { } e ? Si(e, "J") : "-");
        AddRow(results, "time", ProgressReporter.Format(Elapsed));

        var layers = new Table().Border(TableBorder.Rounded).Title("spiking layers")
            .AddColumn("layer")
            .AddColumn(new TableColumn("firing rate").RightAligned())
            .AddColumn(new TableColumn("synaptic ops / sample").RightAligned());
        foreach (var layer in Layers)
        {
            layers.AddRow(new Text(layer.Layer), new Text(double.IsNaN(layer.FiringRate) ? "-" : layer.FiringRate.ToString("0.0000", CultureInfo.InvariantCulture)), new Text(Si(layer.SynapticOperations, "")));
        }
        return new Columns(results, layers).Collapse();
    }

    /// <summary>Writes the tables to <paramref name="console"/> (default: the process's console).</summary>
    public void Write(IAnsiConsole? console = null) => (console ?? AnsiConsole.Console).Write(ToRenderable());

    private static void AddRow(Table table, string name, string value) => table.AddRow(new Text(name), new Text(value));

    private static string Percent(double fraction) => string.Create(CultureInfo.InvariantCulture, $"{100 * fraction:0.00}%");

    /// <summary>A value with an SI prefix, three significant digits: <c>1.23 M</c>, <c>4.56 µJ</c>.</summary>
    public static string Si(double value, string unit)
    {
        if (value == 0 || !double.IsFinite(value)) return string.Create(CultureInfo.InvariantCulture, $"{value:0} {unit}").TrimEnd();
        ReadOnlySpan<string> prefixes = ["p", "n", "µ", "m", "", "k", "M", "G", "T", "P"];
        int exponent = (int)Math.Floor(Math.Log10(Math.Abs(value)) / 3);
        int index = Math.Clamp(exponent + 4, 0, prefixes.Length - 1);
        double scaled = value / Math.Pow(1000, index - 4);
        return string.Create(CultureInfo.InvariantCulture, $"{scaled:G3} {prefixes[index]}{unit}").TrimEnd();
    }
}
