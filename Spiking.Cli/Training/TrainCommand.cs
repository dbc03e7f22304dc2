using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text.Json;
using Spectre.Console;
using Spiking.Gpu;
using Spiking.Layers;
using Spiking.Layers.Data;
using Spiking.Layers.Serialization;
using Spiking.Tensors;
using Spiking.Tensors.Backends;

namespace Spiking.Cli.Training;

/// <summary>
/// <c>spiking train</c>: trains W1 (<c>--model mlp</c>, the default) or W2 (<c>--model cnn</c>) on Fashion-MNIST
/// with a live progress bar, evaluates after every epoch (test accuracy, firing rate per layer, synaptic
/// operations, energy), and optionally writes a checkpoint, JSON metrics and PNG plots.
/// </summary>
internal static class TrainCommand
{
    /// <summary>The largest number of time steps accepted: beyond it, a batch's activations outgrow one array.</summary>
    internal const int MaxTimeSteps = 1024;

    /// <summary>The largest batch accepted.</summary>
    internal const int MaxBatch = 65536;

    public static int Run(Options options)
    {
        string? modelName = options.String("model");
        if (LanguageModelKind.TryParse(modelName) is { } languageModel) return LanguageModelTrainCommand.Run(options, languageModel);
        var model = ModelKind.Parse(modelName);
        int epochs = options.Int("epochs", 1, min: 1, max: 100_000);
        int batch = options.Int("batch", 64, min: 1, max: MaxBatch);
        int timeSteps = options.Int("timesteps", model.DefaultTimeSteps, min: 1, max: MaxTimeSteps);
        double lr = options.Double("lr", 1e-3, min: 0, max: float.MaxValue);
        string optimizerName = options.Choice("optimizer", "adam", "adam", "adamw", "sgd");
        string schedule = options.Choice("schedule", "none", "none", "cosine", "step");
        ulong seed = (ulong)options.Int("seed", 0, min: 0);
        int threads = options.Int("threads", Environment.ProcessorCount, min: 1, max: Options.MaxThreads);
        int limit = options.Int("limit", 0, min: 0);
        int testLimit = options.Int("test-limit", 0, min: 0);
        string dataDir = options.String("data") ?? ImageDataset.FashionMnistDirectory;
        var device = ParseDevice(options.String("device"));
        string? outPath = OutputPaths.File(options, "out");
        string? jsonPath = OutputPaths.File(options, "json");
        string? plotDir = options.String("plot");
        var method = ParseTrainingMethod(options.String("training"));
        options.RejectUnknown();
        model.CheckSize(timeSteps, batch);
        if (method.Kind != TrainingMethodKind.Bptt && device.Kind != DeviceKind.Cpu)
        {
            throw new UsageException($"--training {method} runs on the CPU only (its pieces of the time axis have no device path); use --training bptt on {device}");
        }
        if (plotDir is not null) plotDir = OutputPaths.Folder(options, "plot");
        Parallelism.MaxThreads = threads;

        var train = Limit(LoadData(dataDir, train: true), limit);
        var test = Limit(LoadData(dataDir, train: false), testLimit);

        ModelSeed.Seed(seed);
        using var net = model.Build(timeSteps);
        OpenDevice(device, net, model);
        using var optimizer = CreateOptimizer(optimizerName, net, lr);
        LearningRateSchedule? scheduler = schedule switch
        {
            "cosine" => new CosineAnnealingLR(optimizer, epochs),
            "step" => new StepLR(optimizer, Math.Max(1, epochs / 3)),
            _ => null,
        };
        var trainer = new ClassifierTrainer(net, optimizer, model.Encoder(timeSteps, seed, device), model.Loss) { Method = method, Seed = seed };
        var evaluator = new ClassifierTrainer(net, optimizer, model.Encoder(timeSteps, seed ^ 0x5EED, device), model.Loss);
        using var trainLoader = new DataLoader(train, batch, shuffle: true, seed);
        using var testLoader = new DataLoader(test, 256, shuffle: false);

        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture,
            "[bold]{0}[/] ({1}): {2} epochs, batch {3}, T={4}, training {5}, {6} lr {7}, {8} threads, {9} train / {10} test samples from {11}, on {12}",
            model.Workload, model.Name, epochs, batch, timeSteps, method, optimizerName, lr, threads, train.Count, test.Count, Markup.Escape(dataDir),
            Markup.Escape(ComputeBackend.For(device).Description));

        var stepLoss = new List<double>();
        var stepMilliseconds = new List<double>();
        var stepAccuracy = new List<double>();
        var testAccuracies = new List<double>();
        var epochSeconds = new List<double>();
        var warnings = new List<string>();
        EnergyReport? lastReport = null;
        double samplesPerSecond = 0;
        double trainPeakRss = 0;
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            // The training loop's own peak, apart from evaluation's (a test batch of 256 can outgrow a training step).
            MachineInfo.ResetPeakRss();
            var clock = Stopwatch.StartNew();
            ProgressReporter reporter;
            try
            {
                reporter = TrainingProgress.Run($"epoch {epoch + 1}/{epochs}", trainLoader.BatchCount, progress =>
                {
                    int step = 0, seen = 0;
                    foreach (var b in trainLoader.Epoch(epoch))
                    {
                        long started = Stopwatch.GetTimestamp();
                        var (loss, correct) = trainer.TrainStep(b.Images, b.Labels);
                        stepMilliseconds.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                        seen += b.Count;
                        stepLoss.Add(loss);
                        stepAccuracy.Add((double)correct / b.Count);
                        progress.Report(++step, loss, (double)correct / b.Count, seen / clock.Elapsed.TotalSeconds);
                    }
                });
            }
            catch (TrainingDivergedException e)
            {
                throw new CliException(ExitCode.Diverged, string.Create(CultureInfo.InvariantCulture,
                    $"{e.Message} with --lr (the default is 1e-3); in epoch {epoch + 1}{(outPath is null ? "" : $"; nothing was written to '{outPath}'")}"));
            }
            double seconds = clock.Elapsed.TotalSeconds;
            double epochPeakRss = MachineInfo.PeakRssMib();
            trainPeakRss = Math.Max(trainPeakRss, epochPeakRss);
            epochSeconds.Add(seconds);
            samplesPerSecond = train.Count / seconds;
            scheduler?.Step();

            var (accuracy, report, evalSeconds) = Evaluate(net, evaluator, testLoader);
            lastReport = report;
            testAccuracies.Add(accuracy);
            var summary = new EpochSummary(epoch + 1, epochs, reporter.MeanLoss, reporter.MeanAccuracy, accuracy,
                Activities(report), report.Microjoules * 1e-6, TimeSpan.FromSeconds(seconds), report.MultiplyAccumulates);
            summary.Write();
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture,
                "epoch {0}: train {1:F1} s ({2:F0} samples/s, median step {3:F1} ms, peak RSS in training {4:F0} MiB), test accuracy [bold]{5:P2}[/] (eval {6:F1} s), {7}",
                epoch + 1, seconds, samplesPerSecond, Median(stepMilliseconds), epochPeakRss, accuracy, evalSeconds, Markup.Escape(EnergyLine(report)));
            if (ChanceWarning(accuracy, test.Classes, lr, epoch + 1) is { } warning && warnings.Count == 0)
            {
                warnings.Add(warning);
                options.Warn(warning);
            }
        }

        // Checkpoints and plots read parameters and spikes on the host.
        if (device.Kind != DeviceKind.Cpu) net.To(Device.Cpu);
        if (outPath is not null)
        {
            Write("out", outPath, () => Checkpoint.Save(net, outPath, model.Recipe(timeSteps)));
            AnsiConsole.MarkupLine($"checkpoint written to {Markup.Escape(outPath)}");
        }
        if (plotDir is not null)
        {
            Write("plot", plotDir, () => WritePlots(plotDir, net, evaluator, test, model, stepLoss, stepAccuracy, testAccuracies, trainLoader.BatchCount, lastReport!));
        }
        if (jsonPath is not null)
        {
            Write("json", jsonPath, () => WriteJson(jsonPath, model, method, epochs, batch, timeSteps, threads, train.Count, testAccuracies, epochSeconds,
                stepLoss, stepMilliseconds, trainPeakRss, lastReport!, warnings));
        }
        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "peak RSS {0:F0} MiB", MachineInfo.PeakRssMib());
        return 0;
    }

    /// <summary>
    /// A warning when the test accuracy is no better than guessing (within 2 points of 1/classes): the loss stayed
    /// finite but nothing was learnt, usually because the learning rate is far too high (or too low).
    /// </summary>
    internal static string? ChanceWarning(double accuracy, int classes, double lr, int epoch)
    {
        double chance = 1.0 / classes;
        if (accuracy > chance + 0.02) return null;
        return string.Create(CultureInfo.InvariantCulture,
            $"after epoch {epoch} the test accuracy {accuracy:P2} is at chance level ({chance:P0} for {classes} classes): the model learnt nothing; " +
            $"a learning rate far too high or too low (--lr {lr:G}; the default is 1e-3) or a run too short is the likely cause");
    }

    /// <summary>Runs an output's writer, turning a file-system failure into a one-line output error.</summary>
    private static void Write(string option, string path, Action write)
    {
        try
        {
            write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OutputException($"--{option} '{path}' could not be written: {e.Message}");
        }
    }

    private static Device ParseDevice(string? text)
    {
        try
        {
            return text is null ? Device.Cpu : Device.Parse(text);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--device: {e.Message}");
        }
    }

    /// <summary>Opens the CUDA backend and moves the model there.</summary>
    /// <exception cref="CliException">The model has no device path (usage), or no CUDA backend is usable here (unavailable).</exception>
    private static void OpenDevice(Device device, Module net, ModelKind model)
    {
        if (device.Kind == DeviceKind.Cpu) return;
        if (!model.RunsOnDevices)
        {
            throw new UsageException($"--model {model.Name} cannot train on {device} yet: the transformers' attention and patch ops have no device path; run it on the CPU");
        }
        if (!CudaBackend.IsAvailable(out string reason))
        {
            throw new CliException(ExitCode.Unavailable, $"--device {device}: no CUDA backend here: {reason}");
        }
        CudaBackend.Register();
        net.To(device);
    }

    /// <summary>Loads the training or the test half of Fashion-MNIST; an empty half or another image size is an input error.</summary>
    /// <exception cref="InputException">The half holds no images, or not 28×28 ones.</exception>
    internal static ImageDataset LoadData(string directory, bool train)
    {
        var data = ImageDataset.LoadFashionMnist(directory, train);
        string half = train ? "training" : "test";
        if (data.Count == 0) throw new InputException($"the {half} files in '{directory}' hold no images");
        if (data.Rows != ImageSide || data.Columns != ImageSide)
        {
            throw new InputException($"the {half} images in '{directory}' are {data.Rows}×{data.Columns} pixels; the models take {ImageSide}×{ImageSide} (Fashion-MNIST, MNIST)");
        }
        return data;
    }

    /// <summary>The side of the square images every model of the CLI is built for.</summary>
    internal const int ImageSide = 28;

    /// <summary>The first <paramref name="count"/> samples of <paramref name="data"/> (all of them when 0 or more than it holds).</summary>
    internal static ImageDataset Limit(ImageDataset data, int count)
    {
        if (count <= 0 || count >= data.Count) return data;
        return new ImageDataset(data.Pixels[..(count * data.PixelsPerImage)].ToArray(), data.Labels[..count].ToArray(), data.Rows, data.Columns, data.Classes);
    }

    private static Optimizer CreateOptimizer(string name, Module net, double lr) => name switch
    {
        "adamw" => new AdamW(net.Parameters(), lr),
        "sgd" => new Sgd(net.Parameters(), lr, momentum: 0.9),
        _ => new Adam(net.Parameters(), lr),
    };

    /// <summary>Test accuracy, with operations and firing rates counted over the whole test set.</summary>
    internal static (double Accuracy, EnergyReport Report, double Seconds) Evaluate(Module net, ClassifierTrainer evaluator, DataLoader loader)
    {
        var clock = Stopwatch.StartNew();
        EnergyModel.StartCounting(net);
        int correct = 0, seen = 0;
        foreach (var b in loader.Epoch(0))
        {
            correct += evaluator.EvaluateBatch(b.Images, b.Labels);
            seen += b.Count;
        }
        EnergyModel.StopCounting(net);
        return ((double)correct / seen, EnergyModel.Report(net, seen), clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// One row per spiking layer with the synaptic operations its spikes cause in the layer it feeds, in model
    /// order, after a row for the encoded input when the first synaptic layer receives spikes from the encoder.
    /// </summary>
    private static List<LayerActivity> Activities(EnergyReport report)
    {
        var layers = new List<LayerActivity>();
        var fed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var rate in report.FiringRates)
        {
            double sops = 0;
            foreach (var layer in report.Layers)
            {
                if (layer.FedBy == rate.Name && fed.Add(layer.Name)) sops = layer.SynapticOperations;
            }
            layers.Add(new LayerActivity($"{rate.Name} ({rate.Kind})", rate.Rate, sops));
        }
        foreach (var layer in report.Layers)
        {
            if (!fed.Contains(layer.Name) && layer.SynapticOperations > 0)
            {
                layers.Insert(0, new LayerActivity($"input spikes → {layer.Name} ({layer.Kind})", double.NaN, layer.SynapticOperations));
            }
        }
        return layers;
    }

    /// <summary>The energy estimate with each synaptic layer's count and whether it was charged as AC or MAC.</summary>
    internal static string EnergyLine(EnergyReport report)
    {
        var parts = new List<string>();
        foreach (var l in report.Layers)
        {
            parts.Add(l.MultiplyAccumulates > 0
                ? string.Create(CultureInfo.InvariantCulture, $"{l.Name} {l.Kind} {l.MultiplyAccumulates / 1e6:F3} M MACs (dense input)")
                : string.Create(CultureInfo.InvariantCulture, $"{l.Name} {l.Kind} {l.SynapticOperations / 1e6:F3} M SOPs (spike input)"));
        }
        return string.Create(CultureInfo.InvariantCulture,
            $"energy per sample {report.Microjoules:F3} µJ = {string.Join(" + ", parts)}; 0.9 pJ per SOP, 4.6 pJ per MAC (45 nm); BN, pooling and neuron updates not counted");
    }

    private static void WritePlots(string dir, Module net, ClassifierTrainer evaluator, ImageDataset test, ModelKind model,
        List<double> stepLoss, List<double> stepAccuracy, List<double> testAccuracies, int stepsPerEpoch, EnergyReport report)
    {
        Directory.CreateDirectory(dir);
        Plots.TrainingCurves(Path.Combine(dir, "training.png"), stepLoss, stepAccuracy, testAccuracies, stepsPerEpoch, $"{model.Workload} ({model.Name}) on Fashion-MNIST");
        var rates = new List<(string, double)>();
        foreach (var r in report.FiringRates) rates.Add((r.Name, r.Rate));
        Plots.FiringRates(Path.Combine(dir, "firing_rates.png"), rates);

        var neurons = new List<(string Name, INeuronLayer Neuron)>();
        foreach (var (name, module) in net.NamedModules())
        {
            if (module is INeuronLayer neuron)
            {
                neuron.KeepLastSpikes = true;
                neurons.Add((name, neuron));
            }
        }
        var one = new ImageDataset(test.Image(0).ToArray(), [test.Labels[0]], test.Rows, test.Columns, test.Classes);
        using (var loader = new DataLoader(one, 1, shuffle: false))
        {
            foreach (var b in loader.Epoch(0)) evaluator.EvaluateBatch(b.Images, b.Labels);
        }
        var layers = new List<(string, bool[,])>();
        foreach (var (name, neuron) in neurons)
        {
            // A layer with a float output (analog values, spike counts) keeps no bits to draw.
            if (neuron.LastSpikes is not { } spikes) continue;
            int steps = spikes.Shape[0], count = spikes.Length / steps;
            var raster = new bool[steps, count];
            using var dense = spikes.ToTensor();
            var values = dense.AsReadOnlySpan();
            for (int t = 0; t < steps; t++)
            {
                for (int i = 0; i < count; i++) raster[t, i] = values[t * count + i] != 0;
            }
            layers.Add(($"layer {name}", raster));
            neuron.KeepLastSpikes = false;
        }
        Plots.SpikeRaster(Path.Combine(dir, "raster.png"), $"Spikes of test sample 0 (label {test.Labels[0]})", layers);
        AnsiConsole.MarkupLine($"plots written to {Markup.Escape(dir)}: training.png, firing_rates.png, raster.png");
    }

    /// <summary>The <c>--training</c> method (default bptt).</summary>
    /// <exception cref="UsageException">The text is not a training method.</exception>
    private static TrainingMethod ParseTrainingMethod(string? text)
    {
        try
        {
            return text is null ? TrainingMethod.Bptt : TrainingMethod.Parse(text);
        }
        catch (FormatException e)
        {
            throw new UsageException($"--training: {e.Message}");
        }
    }

    private static double Median(List<double> values)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.ToArray();
        Array.Sort(sorted);
        return sorted[sorted.Length / 2];
    }

    private static void WriteJson(string path, ModelKind model, TrainingMethod method, int epochs, int batch, int timeSteps, int threads, int samples,
        List<double> testAccuracies, List<double> epochSeconds, List<double> stepLoss, List<double> stepMilliseconds, double trainPeakRss, EnergyReport report, List<string> warnings)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("workload", model.Workload);
            w.WriteString("model", model.Name);
            w.WriteString("engine", "spiking");
            JsonLines.Number(w, "epochs", epochs);
            JsonLines.Number(w, "batch", batch);
            JsonLines.Number(w, "T", timeSteps);
            w.WriteString("training", method.ToString());
            JsonLines.Number(w, "threads", threads);
            JsonLines.Number(w, "train_samples", samples);
            JsonLines.Number(w, "test_acc", testAccuracies[^1]);
            double trainSeconds = 0;
            foreach (var e in epochSeconds) trainSeconds += e;
            JsonLines.Number(w, "samples_per_s", (double)samples * epochs / trainSeconds);
            // The kernel's resident-set counters are per thread and folded in lazily, so a later reading can fall a
            // few pages short of an earlier one; the process's peak is at least every peak seen.
            JsonLines.Number(w, "peak_rss_mb", Math.Max(MachineInfo.PeakRssMib(), trainPeakRss));
            JsonLines.Number(w, "train_peak_rss_mb", trainPeakRss);
            JsonLines.Number(w, "step_ms_median", Median(stepMilliseconds));
            w.WriteStartArray("epoch_seconds");
            foreach (var s in epochSeconds) JsonLines.NumberValue(w, s);
            w.WriteEndArray();
            w.WriteStartArray("epoch_test_acc");
            foreach (var a in testAccuracies) JsonLines.NumberValue(w, a);
            w.WriteEndArray();
            JsonLines.Number(w, "final_loss", stepLoss[^1]);
            w.WriteStartObject("firing_rates");
            foreach (var r in report.FiringRates) JsonLines.Number(w, r.Name, r.Rate);
            w.WriteEndObject();
            JsonLines.Energy(w, report, "sample");
            w.WriteStartArray("warnings");
            foreach (var warning in warnings) w.WriteStringValue(warning);
            w.WriteEndArray();
            w.WriteString("cpu", MachineInfo.CpuName());
            w.WriteString("simd", MachineInfo.SimdName());
            w.WriteEndObject();
        }
        stream.WriteByte((byte)'\n');
        using var file = new FileStream(path, FileMode.Append, FileAccess.Write);
        stream.Position = 0;
        stream.CopyTo(file);
    }
}
