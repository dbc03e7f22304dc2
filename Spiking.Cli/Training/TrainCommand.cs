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
/// <c>spiking train</c>: trains W1 (<c>--model mlp</c>, the default), W2 (<c>--model cnn</c>) or a transformer (spikformer, sdt, metaspikeformer) on Fashion-MNIST
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
        if (options.String("sdsa") is not null && !model.TakesSdsa)
        {
            throw new UsageException($"--sdsa is for --model sdt; --model {model.Name} has no SDSA variants");
        }
        var sdsa = ModelKind.SdsaFromNumber(options.Int("sdsa", 1, min: 1, max: 4));
        int weightBits = WeightBits(options, model);
        int epochs = options.Int("epochs", 1, min: 1, max: 100_000);
        int batch = options.Int("batch", 64, min: 1, max: MaxBatch);
        int evalBatch = options.Int("eval-batch", batch, min: 1, max: MaxBatch);
        string? scheduleText = options.String("timesteps-schedule");
        int[] stages = scheduleText is null ? [options.Int("timesteps", model.DefaultTimeSteps, min: 1, max: MaxTimeSteps)] : TimeStepSchedule.Parse(scheduleText);
        if (scheduleText is not null && options.String("timesteps") is not null)
        {
            throw new UsageException("--timesteps and --timesteps-schedule both set the time steps; give one (the schedule's first T is the first stage's)");
        }
        var neuron = ParseNeuron(options.String("neuron"), scheduleText is null ? NeuronKind.Lif : NeuronKind.IirLif);
        string? readoutText = options.String("readout");
        var readout = readoutText is null ? Readout.Spikes : Readouts.TryParse(readoutText) ?? throw new UsageException($"--readout expects spikes or membrane, got '{readoutText}'");
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
        if (neuron != NeuronKind.Lif || scheduleText is not null || readout != Readout.Spikes)
        {
            string what = scheduleText is not null ? "--timesteps-schedule" : neuron != NeuronKind.Lif ? $"--neuron {neuron.Name()}" : $"--readout {readout.Name()}";
            if (!model.TakesNeurons) throw new UsageException($"{what} is for --model mlp or cnn; --model {model.Name} is built with its own neurons");
            if (neuron != NeuronKind.Lif && device.Kind != DeviceKind.Cpu)
            {
                throw new UsageException($"--neuron {neuron.Name()} runs on the CPU only (its learnable leak and threshold have no device kernel); train it without --device {device}");
            }
        }
        model.CheckSize(stages[0], batch);
        if (method.Kind != TrainingMethodKind.Bptt && device.Kind != DeviceKind.Cpu)
        {
            throw new UsageException($"--training {method} runs on the CPU only (its pieces of the time axis have no device path); use --training bptt on {device}");
        }
        if (plotDir is not null) plotDir = OutputPaths.Folder(options, "plot");
        Parallelism.MaxThreads = threads;
        if (model.TakesNeurons && readout == Readout.Spikes && method.PerStepLoss)
        {
            // Measured on W2 at T=4: 79 % by SLTT against 87 % by BPTT with the spiking output, equal with the membrane one (docs/TRAINING_MEMORY.md).
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "[yellow]note:[/] --training {0} gives each step its own loss, and a spiking output layer shows it one bit per class a step; SLTT's networks end in a non-spiking layer (--readout membrane)",
                Markup.Escape(method.ToString()));
        }

        var train = Limit(LoadData(dataDir, train: true), limit);
        var test = Limit(LoadData(dataDir, train: false), testLimit);

        ModelSeed.Seed(seed);
        using var net = model.Build(stages[0], neuron, readout, sdsa, weightBits);
        OpenDevice(device, net, model);
        using var trainLoader = new DataLoader(train, batch, shuffle: true, seed);
        using var testLoader = new DataLoader(test, evalBatch, shuffle: false);

        var run = new RunSettings(model, neuron, readout, sdsa, weightBits, stages, scheduleText is not null, method, epochs, batch, threads, train.Count, outPath);
        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture,
            "[bold]{0}[/] ({1}{2}): {3} epochs{4}, batch {5}, {6}, neuron {7}, readout {8}, training {9}, {10} lr {11}, {12} threads, {13} train / {14} test samples from {15}, on {16}",
            model.Workload, model.Name, model.TakesSdsa ? $", SDSA-{ModelKind.SdsaNumber(sdsa)}" : model.TakesWeightBits ? $", {weightBits}-bit weights" : "", epochs, run.Scheduled ? " per stage" : "", batch,
            run.Scheduled ? $"T schedule {TimeStepSchedule.Format(stages)}" : $"T={stages[0]}", neuron.Name(), readout.Name(), method, optimizerName, lr, threads,
            train.Count, test.Count, Markup.Escape(dataDir), Markup.Escape(ComputeBackend.For(device).Description));

        StageResult? last = null;
        ClassifierTrainer? lastEvaluator = null;
        for (int stage = 0; stage < stages.Length; stage++)
        {
            int timeSteps = stages[stage];
            if (stage > 0)
            {
                // Fine-tune the previous stage's network (weights, batch-norm statistics, learned leaks and thresholds) at the next T.
                model.CheckSize(timeSteps, batch);
                model.SetTimeSteps(net, timeSteps);
            }
            // Each stage starts a fresh optimizer and learning-rate schedule, as IIR-SNN starts each stage as a new run from the last one's weights.
            using var optimizer = CreateOptimizer(optimizerName, net, lr);
            LearningRateSchedule? scheduler = schedule switch
            {
                "cosine" => new CosineAnnealingLR(optimizer, epochs),
                "step" => new StepLR(optimizer, Math.Max(1, epochs / 3)),
                _ => null,
            };
            var trainer = new ClassifierTrainer(net, optimizer, model.Encoder(timeSteps, seed, device), model.LossFor(readout)) { Method = method, Seed = seed };
            var evaluator = new ClassifierTrainer(net, optimizer, model.Encoder(timeSteps, seed ^ 0x5EED, device), model.LossFor(readout));
            if (run.Scheduled)
            {
                AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "[bold]stage {0}/{1}[/]: T={2}{3}", stage + 1, stages.Length, timeSteps,
                    stage == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $", fine-tuning stage {stage}'s model (T={stages[stage - 1]})"));
            }
            last = TrainStage(run, stage, net, trainer, evaluator, scheduler, trainLoader, testLoader, test.Classes, lr, options);
            lastEvaluator = evaluator;
            if (run.Scheduled || neuron != NeuronKind.Lif)
            {
                // IIR-SNN's LIF trains on the CPU only, so its parameters are read where they are.
                var learned = NeuronKinds.Learned(net);
                AnsiConsole.MarkupLine(Markup.Escape(StageLine(run, stage, last.TestAccuracies[^1], learned)));
            }
            if (jsonPath is not null)
            {
                Write("json", jsonPath, () => WriteJson(jsonPath, run, stage, net, last));
            }
        }

        // Checkpoints and plots read parameters and spikes on the host.
        if (device.Kind != DeviceKind.Cpu) net.To(Device.Cpu);
        int finalTimeSteps = stages[^1];
        if (outPath is not null)
        {
            Write("out", outPath, () => Checkpoint.Save(net, outPath, model.Recipe(finalTimeSteps, neuron, run.Scheduled ? stages : null, readout, sdsa, weightBits)));
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "checkpoint written to {0} (T={1}, neuron {2})", Markup.Escape(outPath), finalTimeSteps, neuron.Name());
        }
        if (plotDir is not null)
        {
            Write("plot", plotDir, () => WritePlots(plotDir, net, lastEvaluator!, test, model, last!.StepLoss, last.StepAccuracy, last.TestAccuracies, trainLoader.BatchCount, last.Report));
        }
        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "peak RSS {0:F0} MiB", MachineInfo.PeakRssMib());
        return 0;
    }

    /// <summary>What a training run was asked for, the same for all its stages.</summary>
    private sealed record RunSettings(ModelKind Model, NeuronKind Neuron, Readout Readout, SdsaVariant Sdsa, int WeightBits, int[] Stages, bool Scheduled, TrainingMethod Method, int Epochs, int Batch, int Threads,
        int Samples, string? OutPath);

    /// <summary>What one stage (the whole run without a schedule) measured.</summary>
    private sealed record StageResult(List<double> StepLoss, List<double> StepMilliseconds, List<double> StepAccuracy, List<double> TestAccuracies,
        List<double> EpochSeconds, List<string> Warnings, EnergyReport Report, double TrainPeakRss);

    /// <summary>Trains <paramref name="net"/> for the run's epochs at the stage's T, evaluating after every epoch.</summary>
    private static StageResult TrainStage(RunSettings run, int stage, Module net, ClassifierTrainer trainer, ClassifierTrainer evaluator, LearningRateSchedule? scheduler,
        DataLoader trainLoader, DataLoader testLoader, int classes, double lr, Options options)
    {
        int epochs = run.Epochs;
        var stepLoss = new List<double>();
        var stepMilliseconds = new List<double>();
        var stepAccuracy = new List<double>();
        var testAccuracies = new List<double>();
        var epochSeconds = new List<double>();
        var warnings = new List<string>();
        EnergyReport? lastReport = null;
        double trainPeakRss = 0;
        string stageLabel = run.Scheduled ? string.Create(CultureInfo.InvariantCulture, $"stage {stage + 1}/{run.Stages.Length} (T={run.Stages[stage]}), ") : "";
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            // The training loop's own peak, apart from evaluation's (a test batch of 256 can outgrow a training step).
            MachineInfo.ResetPeakRss();
            var clock = Stopwatch.StartNew();
            ProgressReporter reporter;
            try
            {
                reporter = TrainingProgress.Run($"{stageLabel}epoch {epoch + 1}/{epochs}", trainLoader.BatchCount, progress =>
                {
                    int step = 0, seen = 0;
                    // Every stage's epochs draw their own shuffles.
                    foreach (var b in trainLoader.Epoch(stage * epochs + epoch))
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
                    $"{e.Message} with --lr (the default is 1e-3); in {stageLabel}epoch {epoch + 1}{(run.OutPath is null ? "" : $"; nothing was written to '{run.OutPath}'")}"));
            }
            double seconds = clock.Elapsed.TotalSeconds;
            double epochPeakRss = MachineInfo.PeakRssMib();
            trainPeakRss = Math.Max(trainPeakRss, epochPeakRss);
            epochSeconds.Add(seconds);
            double samplesPerSecond = run.Samples / seconds;
            scheduler?.Step();

            var (accuracy, report, evalSeconds) = Evaluate(net, evaluator, testLoader, run.Stages[stage]);
            lastReport = report;
            testAccuracies.Add(accuracy);
            var summary = new EpochSummary(epoch + 1, epochs, reporter.MeanLoss, reporter.MeanAccuracy, accuracy,
                Activities(report), report.Microjoules * 1e-6, TimeSpan.FromSeconds(seconds), report.MultiplyAccumulates);
            summary.Write();
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture,
                "{0}epoch {1}: train {2:F1} s ({3:F0} samples/s, median step {4:F1} ms, peak RSS in training {5:F0} MiB), test accuracy [bold]{6:P2}[/] (eval {7:F1} s), {8}",
                Markup.Escape(stageLabel), epoch + 1, seconds, samplesPerSecond, Median(stepMilliseconds), epochPeakRss, accuracy, evalSeconds, Markup.Escape(EnergyLine(report)));
            if (ChanceWarning(accuracy, classes, lr, epoch + 1) is { } warning && warnings.Count == 0)
            {
                warnings.Add(warning);
                options.Warn(warning);
            }
        }
        return new StageResult(stepLoss, stepMilliseconds, stepAccuracy, testAccuracies, epochSeconds, warnings, lastReport!, trainPeakRss);
    }

    /// <summary>A stage's result with the learned threshold and leak of every IIR-SNN LIF layer.</summary>
    private static string StageLine(RunSettings run, int stage, double accuracy, List<(string Layer, double Threshold, double Leak)> learned)
    {
        var thresholds = new List<string>();
        var leaks = new List<string>();
        foreach (var (layer, threshold, leak) in learned)
        {
            thresholds.Add(string.Create(CultureInfo.InvariantCulture, $"{layer}={threshold:F4}"));
            leaks.Add(string.Create(CultureInfo.InvariantCulture, $"{layer}={leak:F4}"));
        }
        string learnedText = learned.Count == 0 ? "" : $"; thresholds {string.Join(", ", thresholds)}; leaks {string.Join(", ", leaks)}";
        return string.Create(CultureInfo.InvariantCulture,
            $"stage {stage + 1}/{run.Stages.Length}: T={run.Stages[stage]}, test accuracy {accuracy:P2}{learnedText}");
    }

    /// <summary>The <c>--neuron</c> (default <paramref name="fallback"/>: IIR-SNN's LIF with a schedule, else the LIF).</summary>
    /// <exception cref="UsageException">The text is not a neuron.</exception>
    private static NeuronKind ParseNeuron(string? text, NeuronKind fallback) =>
        text is null ? fallback : NeuronKinds.TryParse(text) ?? throw new UsageException($"--neuron expects lif or iir-lif, got '{text}'");

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

    /// <summary><c>--weight-bits</c>: 4, 8 or 32 for QSD (default 4), refused for a model with float weights only.</summary>
    private static int WeightBits(Options options, ModelKind model)
    {
        string? text = options.String("weight-bits");
        if (text is null) return model.DefaultWeightBits;
        if (!model.TakesWeightBits) throw new UsageException($"--weight-bits is for --model qsd; --model {model.Name} has float weights only");
        return text is "4" or "8" or "32" ? int.Parse(text, CultureInfo.InvariantCulture)
            : throw new UsageException($"--weight-bits expects 4, 8 or 32 (float), got '{text}'");
    }

    private static Optimizer CreateOptimizer(string name, Module net, double lr) => name switch
    {
        "adamw" => new AdamW(net.Parameters(), lr),
        "sgd" => new Sgd(net.Parameters(), lr, momentum: 0.9),
        _ => new Adam(net.Parameters(), lr),
    };

    /// <summary>Test accuracy, with operations and firing rates counted over the whole test set of <paramref name="timeSteps"/> steps a sample.</summary>
    internal static (double Accuracy, EnergyReport Report, double Seconds) Evaluate(Module net, ClassifierTrainer evaluator, DataLoader loader, int timeSteps)
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
        return ((double)correct / seen, EnergyModel.Report(net, seen, timeSteps), clock.Elapsed.TotalSeconds);
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
            $"energy per sample {report.Microjoules:F3} µJ = {string.Join(" + ", parts)}; 0.9 pJ per SOP, 4.6 pJ per MAC (45 nm, 32-bit operands){WeightBitsNote(report)}; BN, pooling and neuron updates not counted; with STEP's memory traffic ({EnergyModel.MemoryPicojoulesPerBit} pJ per bit: weights each step, inputs once) {report.MemoryMicrojoules:F3} µJ more, {report.TotalMicrojoules:F3} µJ in all");
    }

    private static string WeightBitsNote(EnergyReport report)
    {
        var widths = new SortedSet<int>();
        foreach (var l in report.Layers) widths.Add(l.WeightBits);
        if (widths.Count == 1 && widths.Min == 32) return "";
        return string.Create(CultureInfo.InvariantCulture, $", scaled by weights of {string.Join("/", widths)} bits");
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

    private static void WriteJson(string path, RunSettings run, int stage, Module net, StageResult result)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            var model = run.Model;
            var report = result.Report;
            w.WriteStartObject();
            w.WriteString("workload", model.Workload);
            w.WriteString("model", model.Name);
            w.WriteString("engine", "spiking");
            JsonLines.Number(w, "epochs", run.Epochs);
            JsonLines.Number(w, "batch", run.Batch);
            JsonLines.Number(w, "T", run.Stages[stage]);
            w.WriteString("neuron", run.Neuron.Name());
            w.WriteString("readout", run.Readout.Name());
            if (model.TakesSdsa) JsonLines.Number(w, "sdsa", ModelKind.SdsaNumber(run.Sdsa));
            if (model.TakesWeightBits) JsonLines.Number(w, "weight_bits", run.WeightBits);
            if (run.Scheduled)
            {
                JsonLines.Number(w, "stage", stage + 1);
                JsonLines.Number(w, "stages", run.Stages.Length);
                w.WriteStartArray("timesteps_schedule");
                foreach (int t in run.Stages) w.WriteNumberValue(t);
                w.WriteEndArray();
            }
            w.WriteString("training", run.Method.ToString());
            JsonLines.Number(w, "threads", run.Threads);
            JsonLines.Number(w, "train_samples", run.Samples);
            JsonLines.Number(w, "test_acc", result.TestAccuracies[^1]);
            double trainSeconds = 0;
            foreach (var e in result.EpochSeconds) trainSeconds += e;
            JsonLines.Number(w, "samples_per_s", (double)run.Samples * run.Epochs / trainSeconds);
            // The kernel's resident-set counters are per thread and folded in lazily, so a later reading can fall a
            // few pages short of an earlier one; the process's peak is at least every peak seen.
            JsonLines.Number(w, "peak_rss_mb", Math.Max(MachineInfo.PeakRssMib(), result.TrainPeakRss));
            JsonLines.Number(w, "train_peak_rss_mb", result.TrainPeakRss);
            JsonLines.Number(w, "step_ms_median", Median(result.StepMilliseconds));
            w.WriteStartArray("epoch_seconds");
            foreach (var s in result.EpochSeconds) JsonLines.NumberValue(w, s);
            w.WriteEndArray();
            w.WriteStartArray("epoch_test_acc");
            foreach (var a in result.TestAccuracies) JsonLines.NumberValue(w, a);
            w.WriteEndArray();
            JsonLines.Number(w, "final_loss", result.StepLoss[^1]);
            if (run.Neuron == NeuronKind.IirLif)
            {
                var learned = NeuronKinds.Learned(net);
                w.WriteStartObject("thresholds");
                foreach (var (layer, threshold, _) in learned) JsonLines.Number(w, layer, threshold);
                w.WriteEndObject();
                w.WriteStartObject("leaks");
                foreach (var (layer, _, leak) in learned) JsonLines.Number(w, layer, leak);
                w.WriteEndObject();
            }
            w.WriteStartObject("firing_rates");
            foreach (var r in report.FiringRates) JsonLines.Number(w, r.Name, r.Rate);
            w.WriteEndObject();
            JsonLines.Energy(w, report, "sample");
            w.WriteStartArray("warnings");
            foreach (var warning in result.Warnings) w.WriteStringValue(warning);
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
