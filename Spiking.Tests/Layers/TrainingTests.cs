using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Spiking.Autograd;
using Spiking.Layers;
using Spiking.Layers.Data;
using Spiking.Layers.Serialization;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Layers;

[Collection("Parallelism")]
public sealed class TrainingTests
{
    private static (double FirstLoss, double LastLoss, double Accuracy) Train(Sequential net, Func<Tensor, Variable> encode, int epochs)
    {
        var train = SyntheticImages.Create(384, 1);
        var test = SyntheticImages.Create(200, 2);
        var trainer = new ClassifierTrainer(net, new Adam(net.Parameters(), 1e-3), encode, static (o, labels, _) => Losses.FiringRateMse(o, labels));
        using var loader = new DataLoader(train, 32, shuffle: true, seed: 3);
        double first = 0, last = 0;
        int steps = 0;
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            foreach (var b in loader.Epoch(epoch))
            {
                double loss = trainer.TrainStep(b.Images, b.Labels).Loss;
                if (steps < 3) first += loss / 3;
                last = loss;
                steps++;
            }
        }
        using var testLoader = new DataLoader(test, 100, shuffle: false);
        int correct = 0;
        foreach (var b in testLoader.Epoch(0)) correct += trainer.EvaluateBatch(b.Images, b.Labels);
        return (first, last, correct / 200.0);
    }

    [Fact]
    public void W1_learns_a_few_hundred_samples_loss_falls_and_accuracy_beats_chance()
    {
        ModelSeed.Seed(1);
        using var net = ReferenceModels.SpikingMlp();
        var poisson = new PoissonEncoder(5);
        var (first, last, accuracy) = Train(net, images =>
        {
            using var flat = images.Reshape(images.Shape[0], 784);
            return Variable.Constant(poisson.Encode(flat, 8));
        }, epochs: 3);
        Assert.True(last < 0.8 * first, $"loss went from {first:F4} to {last:F4}");
        Assert.True(accuracy > 0.5, $"test accuracy {accuracy:P1} (chance is 10%)");
    }

    [Fact]
    public void W2_learns_a_few_hundred_samples_loss_falls_and_accuracy_beats_chance()
    {
        ModelSeed.Seed(2);
        using var net = ReferenceModels.SpikingCnn();
        // Three epochs, so the running statistics evaluation uses have followed the batches (momentum 0.1).
        var (first, last, accuracy) = Train(net, images => Variable.Constant(DirectEncoder.Encode(images, 4)), epochs: 3);
        Assert.True(last < 0.8 * first, $"loss went from {first:F4} to {last:F4}");
        Assert.True(accuracy > 0.3, $"test accuracy {accuracy:P1} (chance is 10%)");
    }

    [Fact]
    public void Training_gives_the_same_bits_with_one_or_two_threads()
    {
        int saved = Parallelism.MaxThreads;
        try
        {
            var weights = new float[2][];
            foreach (int threads in new[] { 1, 2 })
            {
                Parallelism.MaxThreads = threads;
                ModelSeed.Seed(9);
                using var net = ReferenceModels.SpikingCnn(channels: 4);
                var data = SyntheticImages.Create(96, 4);
                var trainer = new ClassifierTrainer(net, new Adam(net.Parameters(), 1e-3),
                    images => Variable.Constant(DirectEncoder.Encode(images, 2)), static (o, labels, _) => Losses.FiringRateMse(o, labels));
                using var loader = new DataLoader(data, 32, shuffle: true, seed: 1);
                foreach (var b in loader.Epoch(0)) trainer.TrainStep(b.Images, b.Labels);
                weights[threads - 1] = net.StateDict().Where(e => e.Value is not null).SelectMany(e => e.Value!.AsReadOnlySpan().ToArray()).ToArray();
            }
            Assert.Equal(weights[0], weights[1]);
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }

    [Fact]
    public void Spiking_train_command_writes_metrics_checkpoint_and_plots_and_eval_reads_the_checkpoint()
    {
        using var folder = new TempFolder();
        SyntheticImages.WriteIdx(folder.Path, 256, 128);
        string json = folder.File("metrics.jsonl"), checkpoint = folder.File("w1.safetensors"), plots = Path.Combine(folder.Path, "plots");
        int code = Spiking.Cli.CommandLine.Run(["train", "--data", folder.Path, "--epochs", "2", "--threads", "2", "--json", json, "--out", checkpoint, "--plot", plots]);
        Assert.Equal(0, code);
        using (var metrics = JsonDocument.Parse(File.ReadAllLines(json).Single()))
        {
            var root = metrics.RootElement;
            Assert.Equal("W1", root.GetProperty("workload").GetString());
            Assert.InRange(root.GetProperty("test_acc").GetDouble(), 0.3, 1.0);
            Assert.True(root.GetProperty("samples_per_s").GetDouble() > 0);
            Assert.True(root.GetProperty("peak_rss_mb").GetDouble() > 0);
            Assert.Equal(2, root.GetProperty("epoch_seconds").GetArrayLength());
            Assert.Equal(["2", "4"], root.GetProperty("firing_rates").EnumerateObject().Select(p => p.Name));
            Assert.True(root.GetProperty("energy").GetProperty("sops_per_sample").GetDouble() > 0);
        }
        Assert.Equal(["1.bias", "1.weight", "3.bias", "3.weight"], SafeTensors.Read(checkpoint).Entries.Select(e => e.Name).Order(StringComparer.Ordinal));
        foreach (var png in new[] { "training.png", "firing_rates.png", "raster.png" }) Assert.True(new FileInfo(Path.Combine(plots, png)).Length > 1000, png);
        string evalJson = folder.File("eval.jsonl");
        Assert.Equal(0, Spiking.Cli.CommandLine.Run(["eval", "--checkpoint", checkpoint, "--data", folder.Path, "--json", evalJson]));
        using var eval = JsonDocument.Parse(File.ReadAllLines(evalJson).Single());
        Assert.InRange(eval.RootElement.GetProperty("test_acc").GetDouble(), 0.3, 1.0);
    }

    [Theory]
    [InlineData("cnn", "sltt")]
    [InlineData("mlp", "checkpoint=3")]
    [InlineData("cnn", "sltt-k=1")]
    public void Spiking_train_by_a_method_through_time_reports_it_with_the_step_time_and_peak_memory(string model, string method)
    {
        using var folder = new TempFolder();
        SyntheticImages.WriteIdx(folder.Path, 128, 64);
        string json = folder.File("metrics.jsonl");
        int code = Spiking.Cli.CommandLine.Run(["train", "--model", model, "--data", folder.Path, "--training", method, "--timesteps", "4", "--threads", "2", "--json", json]);
        Assert.Equal(0, code);
        using var metrics = JsonDocument.Parse(File.ReadAllLines(json).Single());
        var root = metrics.RootElement;
        Assert.Equal(method, root.GetProperty("training").GetString());
        Assert.True(root.GetProperty("step_ms_median").GetDouble() > 0);
        Assert.InRange(root.GetProperty("train_peak_rss_mb").GetDouble(), 1, root.GetProperty("peak_rss_mb").GetDouble());
        Assert.InRange(root.GetProperty("test_acc").GetDouble(), 0.0, 1.0);
    }

    [Theory]
    [InlineData("sltt", "spikes", true)]
    [InlineData("tbptt=2", "spikes", true)]
    [InlineData("sltt", "membrane", false)]
    [InlineData("checkpoint=2", "spikes", false)]
    public void A_per_step_loss_on_a_spiking_output_layer_is_pointed_to_the_membrane_readout(string method, string readout, bool noted)
    {
        using var folder = new TempFolder();
        SyntheticImages.WriteIdx(folder.Path, 64, 32);
        var output = new StringWriter();
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings
        {
            Ansi = Spectre.Console.AnsiSupport.No,
            Interactive = Spectre.Console.InteractionSupport.No,
            ColorSystem = Spectre.Console.ColorSystemSupport.NoColors,
            Out = new Spectre.Console.AnsiConsoleOutput(output),
        });
        console.Profile.Width = 400;
        var saved = Spectre.Console.AnsiConsole.Console;
        Spectre.Console.AnsiConsole.Console = console;
        try
        {
            Assert.Equal(0, Spiking.Cli.CommandLine.Run(["train", "--model", "mlp", "--data", folder.Path, "--training", method, "--readout", readout, "--timesteps", "2", "--threads", "1"]));
        }
        finally
        {
            Spectre.Console.AnsiConsole.Console = saved;
        }
        Assert.Equal(noted, output.ToString().Contains($"note: --training {method} gives each step its own loss", StringComparison.Ordinal));
        if (noted) Assert.Contains("(--readout membrane)", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Spiking_train_names_the_missing_data_and_how_to_install_it()
    {
        using var folder = new TempFolder();
        var error = new StringWriter();
        Assert.Equal(3, Spiking.Cli.CommandLine.Run(["train", "--data", folder.Path], error));
        Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(folder.Path, error.ToString(), StringComparison.Ordinal);
        Assert.Contains("dataset-fashion-mnist", error.ToString(), StringComparison.Ordinal);
    }
}
