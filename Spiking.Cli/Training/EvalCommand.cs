using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using Spectre.Console;
using Spiking.Layers;
using Spiking.Layers.Data;
using Spiking.Layers.Quantization;
using Spiking.Layers.Serialization;
using Spiking.Tensors;

namespace Spiking.Cli.Training;

/// <summary>
/// <c>spiking eval --checkpoint FILE</c>: loads an image model's checkpoint (ours or one PyTorch wrote with the same
/// state-dict names) and reports its test accuracy, firing rates and energy estimate.
/// </summary>
internal static class EvalCommand
{
    public static int Run(Options options)
    {
        string path = options.String("checkpoint") ?? throw new UsageException("eval needs --checkpoint FILE");
        // A language model's checkpoint names itself in its metadata, as the reference script writes it; it takes other options.
        SafeTensorsFile? early = null;
        if (File.Exists(path))
        {
            early = SafeTensors.Read(path);
            if (early.Metadata.TryGetValue(ModelKind.ModelKey, out var kindName) && LanguageModelKind.TryParse(kindName) is { } languageModel)
            {
                return LanguageModelEvalCommand.Run(options, early, languageModel);
            }
        }
        string? modelName = options.String("model");
        string dataDir = options.String("data") ?? ImageDataset.FashionMnistDirectory;
        int threads = options.Int("threads", Environment.ProcessorCount, min: 1, max: Options.MaxThreads);
        ulong seed = (ulong)options.Int("seed", 0, min: 0);
        int testLimit = options.Int("test-limit", 0, min: 0);
        int batch = options.Int("batch", 256, min: 1, max: TrainCommand.MaxBatch);
        int? timeStepsOption = options.String("timesteps") is null ? null : options.Int("timesteps", 0, min: 1, max: TrainCommand.MaxTimeSteps);
        string? jsonPath = OutputPaths.File(options, "json");
        string engine = options.Choice("engine", "float", "float", "integer");
        options.RejectUnknown();
        Parallelism.MaxThreads = threads;

        var file = early ?? SafeTensors.Read(path);
        var (model, timeSteps, warning) = Recipe(file, modelName is null ? null : ModelKind.Parse(modelName), timeStepsOption);
        if (warning is not null) options.Warn(warning);
        model.CheckSize(timeSteps, batch);
        var test = TrainCommand.Limit(TrainCommand.LoadData(dataDir, train: false), testLimit);

        var neuron = ModelKind.NeuronOf(file);
        var readout = ModelKind.ReadoutOf(file);
        if ((neuron != NeuronKind.Lif || readout != Readout.Spikes) && !model.TakesNeurons)
        {
            throw new InputException(
                $"checkpoint '{file.Source}' names neuron '{neuron.Name()}' and readout '{readout.Name()}', but --model {model.Name} is built with its own neurons and output");
        }
        var sdsa = ModelKind.SdsaOf(file);
        if (sdsa != SdsaVariant.KeyValueMask && !model.TakesSdsa)
        {
            throw new InputException($"checkpoint '{file.Source}' names SDSA-{ModelKind.SdsaNumber(sdsa)} (its metadata), but --model {model.Name} has no SDSA variants");
        }
        int? weightBits = model.TakesWeightBits ? ModelKind.WeightBitsOf(file) : null;
        using var net = model.Build(timeSteps, neuron, readout, sdsa, weightBits);
        if (PackedCheckpoint.IsPacked(file)) PackedCheckpoint.Load(net, file);
        else Checkpoint.Load(net, file);
        if (engine == "integer" && LsqLayer.UseIntegerInference(net, true) == 0)
        {
            throw new UsageException($"--engine integer runs LSQ layers on the integer kernels; checkpoint '{path}' holds a --model {model.Name} network without any (train --model qsd --weight-bits 4 or 8)");
        }
        using var unused = new Sgd(net.Parameters(), 0);
        var evaluator = new ClassifierTrainer(net, unused, model.Encoder(timeSteps, seed ^ 0x5EED), model.LossFor(readout));
        using var loader = new DataLoader(test, batch, shuffle: false);
        var (accuracy, report, seconds) = TrainCommand.Evaluate(net, evaluator, loader, timeSteps);
        var rates = new List<string>();
        foreach (var r in report.FiringRates) rates.Add(string.Create(CultureInfo.InvariantCulture, $"{r.Name}={r.Rate:F4}"));
        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "{0} ({1}{2}) from {3}: test accuracy [bold]{4:P2}[/] on {5} samples, T={6}, neuron {7}, readout {8}, {9:F1} s",
            model.Workload, model.Name, model.TakesSdsa ? $", SDSA-{ModelKind.SdsaNumber(sdsa)}" : weightBits is { } bits ? $", {bits}-bit weights" : "", Markup.Escape(path), accuracy, test.Count, timeSteps, neuron.Name(), readout.Name(), seconds);
        AnsiConsole.MarkupLine(Markup.Escape($"firing rates: {string.Join(", ", rates)}; {TrainCommand.EnergyLine(report)}"));
        try
        {
            new JsonLines(jsonPath).Write(
            [
                new("workload", model.Workload), new("mode", "eval"), new("checkpoint", path), new("test_acc", accuracy),
                new("T", timeSteps), new("sdsa", model.TakesSdsa ? ModelKind.SdsaNumber(sdsa) : null), new("weight_bits", weightBits), new("engine", engine), new("neuron", neuron.Name()), new("readout", readout.Name()), new("test_samples", test.Count), new("eval_s", seconds), new("peak_rss_mb", MachineInfo.PeakRssMib()),
                new("warning", warning),
            ]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OutputException($"--json '{jsonPath}' could not be written: {e.Message}");
        }
        return 0;
    }

    /// <summary>
    /// The model and time steps to evaluate: the checkpoint's recipe (its metadata, as <c>spiking train</c> writes it),
    /// else the model recognised from its names at its default T. A <c>--model</c> or an encoding that contradicts the
    /// recipe is an error; a different <c>--timesteps</c> is honoured with a warning (evaluating at another T is a
    /// legitimate experiment, but never a silent one).
    /// </summary>
    internal static (ModelKind Model, int TimeSteps, string? Warning) Recipe(SafeTensorsFile file, ModelKind? requested, int? requestedTimeSteps)
    {
        var metadata = file.Metadata;
        ModelKind? recorded = null;
        if (metadata.TryGetValue(ModelKind.ModelKey, out var name))
        {
            recorded = ModelKind.TryParse(name) ?? throw new InputException(
                $"checkpoint '{file.Source}' was written for model '{name}' (its metadata), which this version does not know");
        }
        var model = requested ?? recorded ?? ModelKind.FromCheckpoint(file);
        if (recorded is not null && requested is not null && recorded != requested)
        {
            throw new InputException($"checkpoint '{file.Source}' holds a --model {recorded.Name} network (its metadata), not --model {requested.Name}");
        }
        if (metadata.TryGetValue(ModelKind.EncodingKey, out var encoding) && encoding != model.Encoding)
        {
            throw new InputException(
                $"checkpoint '{file.Source}' was trained on '{encoding}'-encoded input (its metadata), but --model {model.Name} encodes '{model.Encoding}'");
        }
        int? trained = null;
        if (metadata.TryGetValue(ModelKind.TimeStepsKey, out var text))
        {
            trained = Options.ParseInt(text, 1, TrainCommand.MaxTimeSteps, out int t) ? t : throw new InputException(
                $"checkpoint '{file.Source}' records T='{text}' in its metadata; expected {Options.IntRange(1, TrainCommand.MaxTimeSteps)}");
        }
        string? warning = requestedTimeSteps is { } asked && trained is { } recordedSteps && asked != recordedSteps
            ? $"evaluating at T={asked}, but checkpoint '{file.Source}' was trained at T={recordedSteps} (its metadata)"
            : null;
        return (model, requestedTimeSteps ?? trained ?? model.DefaultTimeSteps, warning);
    }
}
