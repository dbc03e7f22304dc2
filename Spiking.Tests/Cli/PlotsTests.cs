using System;
using System.Buffers.Binary;
using System.IO;
using Spiking.Cli.Training;
using Xunit;

namespace Spiking.Tests.Cli;

/// <summary>The PNG writers of <see cref="Plots"/>: each writes a real PNG of the requested size.</summary>
public sealed class PlotsTests : IDisposable
{
    private static readonly byte[] s_signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("spiking-plots-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void Training_curves_are_a_png_of_the_requested_size()
    {
        var path = Path.Combine(_dir.FullName, "curves.png");
        var loss = new double[50];
        var accuracy = new double[50];
        for (int i = 0; i < loss.Length; i++)
        {
            loss[i] = 2.3 / (1 + i);
            accuracy[i] = i / 60.0;
        }
        Plots.TrainingCurves(path, loss, accuracy, [0.5, 0.7], stepsPerEpoch: 25, title: "test run", width: 640, height: 480);
        Assert.Equal((640, 480), PngSize(path));
    }

    [Fact]
    public void A_spike_raster_stacks_one_panel_per_layer()
    {
        var path = Path.Combine(_dir.FullName, "raster.png");
        var hidden = new bool[8, 20];
        var output = new bool[8, 3];
        for (int t = 0; t < 8; t++)
        {
            hidden[t, (t * 7) % 20] = true;
            output[t, t % 3] = t % 2 == 0;
        }
        var silent = new bool[8, 4];
        Plots.SpikeRaster(path, "sample 0", [("hidden", hidden), ("output", output), ("silent", silent)], width: 500, heightPerLayer: 200);
        Assert.Equal((500, 600), PngSize(path));
    }

    [Fact]
    public void Firing_rates_are_a_bar_chart_png()
    {
        var path = Path.Combine(_dir.FullName, "rates.png");
        Plots.FiringRates(path, [("fc1.lif", 0.12), ("fc2.lif", 0.0)], width: 400, height: 300);
        Assert.Equal((400, 300), PngSize(path));
    }

    [Fact]
    public void Bad_input_is_rejected_with_a_message_naming_it()
    {
        var path = Path.Combine(_dir.FullName, "bad.png");
        var e = Assert.Throws<ArgumentException>(() => Plots.TrainingCurves(path, [1.0, 2.0], [0.5], []));
        Assert.Contains("stepAccuracy", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => Plots.FiringRates(path, [("fc1", double.NaN)]));
        Assert.Contains("fc1", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => Plots.SpikeRaster(path, "t", [("empty", new bool[0, 5])]));
        Assert.Contains("[0, 5]", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(path));
    }

    /// <summary>The width and height of a PNG from its IHDR chunk, after checking the signature and chunk type.</summary>
    private static (int Width, int Height) PngSize(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 33, $"{path} has only {bytes.Length} bytes");
        Assert.Equal(s_signature, bytes[..8]);
        Assert.Equal("IHDR"u8.ToArray(), bytes[12..16]);
        return (BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
    }
}
