using System;
using System.IO;
using Spectre.Console;
using Spiking.Cli.Training;
using Xunit;

namespace Spiking.Tests.Cli;

/// <summary>The plain-line fallback of <see cref="TrainingProgress"/> and the epoch summary table.</summary>
public sealed class TrainingProgressTests
{
    private static (IAnsiConsole Console, StringWriter Output) Plain()
    {
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            Interactive = InteractionSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = 200;
        return (console, output);
    }

    [Fact]
    public void A_redirected_run_writes_a_line_every_ten_percent_with_running_means()
    {
        var (console, output) = Plain();
        var reporter = TrainingProgress.Run("epoch 1/2", 40, r =>
        {
            for (int step = 1; step <= 40; step++) r.Report(step, loss: step, accuracy: step % 2, samplesPerSecond: 1000);
        }, console);
        var lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(10, lines.Length);
        Assert.StartsWith("epoch 1/2:  10%  4/40  loss 2.5000  acc 50.00%  1,000 samples/s  ETA ", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("epoch 1/2: 100%  40/40  loss 20.5000  acc 50.00%", lines[^1], StringComparison.Ordinal);
        Assert.Equal(20.5, reporter.MeanLoss);
        Assert.Equal(0.5, reporter.MeanAccuracy);
    }

    [Fact]
    public void Few_steps_still_log_every_step_and_out_of_order_steps_throw()
    {
        var (console, output) = Plain();
        TrainingProgress.Run("eval", 3, r =>
        {
            r.Report(1, 1, 1, 1);
            Assert.Throws<ArgumentOutOfRangeException>(() => r.Report(3, 1, 1, 1));
            Assert.Throws<ArgumentOutOfRangeException>(() => r.Report(2, 1, 1.5, 1));
            r.Report(2, 1, 1, 1);
            r.Report(3, 1, 1, 1);
        }, console);
        Assert.Equal(3, output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void The_epoch_summary_lists_each_layer_and_the_totals()
    {
        var (console, output) = Plain();
        var summary = new EpochSummary(3, 10, 0.25, 0.9, 0.925,
            [new LayerActivity("fc1.lif", 0.125, 1.5e6), new LayerActivity("fc2.lif", 0.0625, 2.5e3)], 3.4e-6, TimeSpan.FromSeconds(75));
        summary.Write(console);
        var text = output.ToString();
        Assert.Equal(1.5025e6, summary.SynapticOperations);
        foreach (var expected in new[] { "epoch 3/10", "fc1.lif", "0.1250", "1.5 M", "fc2.lif", "0.0625", "2.5 k", "test accuracy", "92.50%", "3.4 µJ", "1:15" })
        {
            Assert.Contains(expected, text, StringComparison.Ordinal);
        }
        Assert.Equal("1.5 M", EpochSummary.Si(1.5025e6, ""));
        Assert.Equal("12 pJ", EpochSummary.Si(1.2e-11, "J"));
        Assert.Equal("0 J", EpochSummary.Si(0, "J"));
    }
}
