using System;
using System.Collections.Generic;
using System.Globalization;
using Spectre.Console;
using Spiking.Layers;
using Spiking.Layers.Data;
using Spiking.Layers.Serialization;
using Spiking.Tensors;

namespace Spiking.Cli.Training;

/// <summary>
/// <c>spiking eval --checkpoint FILE</c>: loads a W1 or W2 checkpoint (ours or one PyTorch wrote with the same
/// state-dict names) and reports its test accuracy, firing rates and energy estimate.
/// </summary>
internal static class EvalCommand
{
    public static int Run(Options options)
    {
        string path = options.String("checkpoint") ?? throw new UsageException("eval needs --checkpoint FILE");
        string? modelName = options.String("model");
        string dataDir = options.String("data") ?? ImageDataset.FashionMnistDirectory;
        int threads = options.Int("threads", Environment.ProcessorCount, min: 1);
        ulong seed = (ulong)options.Int("seed", 0, min: 0);
        int testLimit = options.Int("test-limit", 0, min: 0);
        int batch = options.Int("batch", 256, min: 1);
        string? timeStepsText = options.String("timesteps");
        string? jsonPath = options.String("json");
        options.RejectUnknown();
        Parallelism.MaxThreads = threads;

        var model = modelName is null ? ModelKind.FromCheckpoint(SafeTensors.Read(path)) : ModelKind.Parse(modelName);
        int timeSteps = timeStepsText is null ? model.DefaultTimeSteps
            : int.TryParse(timeStepsText, CultureInfo.InvariantCulture, out int t) && t > 0 ? t
            : throw new UsageException($"--timesteps expects an integer >= 1, got '{timeStepsText}'");
        var (_, test) = TrainCommand.LoadData(dataDir, 1, testLimit);
        if (test is null) return 1;

        using var net = model.Build(timeSteps);
        Checkpoint.Load(net, path);
        using var unused = new Sgd(net.Parameters(), 0);
        var evaluator = new ClassifierTrainer(net, unused, model.Encoder(timeSteps, seed ^ 0x5EED),
            model.Loss);
        using var loader = new DataLoader(test, batch, shuffle: false);
        var (accuracy, report, seconds) = TrainCommand.Evaluate(net, evaluator, loader);
        var rates = new List<string>();
        foreach (var r in report.FiringRates) rates.Add(string.Create(CultureInfo.InvariantCulture, $"{r.Name}={r.Rate:F4}"));
        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "{0} ({1}) from {2}: test accuracy [bold]{3:P2}[/] on {4} samples, T={5}, {6:F1} s",
            model.Workload, model.Name, Markup.Escape(path), accuracy, test.Count, timeSteps, seconds);
        AnsiConsole.MarkupLine(Markup.Escape($"firing rates: {string.Join(", ", rates)}; {TrainCommand.EnergyLine(report)}"));
        new JsonLines(jsonPath).Write(
        [
            new("workload", model.Workload), new("mode", "eval"), new("checkpoint", path), new("test_acc", accuracy),
            new("T", timeSteps), new("test_samples", test.Count), new("eval_s", seconds), new("peak_rss_mb", MachineInfo.PeakRssMib()),
        ]);
        return 0;
    }
}
