using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using Spectre.Console;
using Spiking.Layers;
using Spiking.Layers.Data;
using Spiking.Layers.Serialization;
using Spiking.Tensors;

namespace Spiking.Cli.Training;

/// <summary>
/// <c>spiking train --model spikegpt|spiking-lm</c>: trains a character language model with SpikeGPT's recipe on the
/// King James Bible or a text file, as the reference script <c>torch_spikegpt.py</c> does, then reports validation and
/// test bits per character, firing rates and energy; optionally writes a checkpoint with the script's metadata, JSON
/// metrics with its keys, and PNG plots.
/// </summary>
internal static class LanguageModelTrainCommand
{
    /// <summary>The longest context accepted.</summary>
    internal const int MaxContext = 1 << 16;

    public static int Run(Options options, LanguageModelKind kind)
    {
        string? textFile = LanguageCorpus.TextOption(options);
        int context = options.Int("context", 128, min: 1, max: MaxContext);
        int layers = options.Int("layers", 4, min: 1, max: 1024);
        int width = options.Int("width", 128, min: 1, max: 1 << 16);
        int steps = options.Int("steps", 1000, min: 1, max: 100_000_000);
        int batch = options.Int("batch", 16, min: 1, max: TrainCommand.MaxBatch);
        double lr = options.Double("lr", 6e-4, min: double.Epsilon, max: float.MaxValue);
        double lrFinal = options.Double("lr-final", 1e-5, min: double.Epsilon, max: float.MaxValue);
        ulong seed = (ulong)options.Int("seed", 0, min: 0);
        int threads = options.Int("threads", Environment.ProcessorCount, min: 1, max: Options.MaxThreads);
        string? initOption = options.String("init");
        string? headsOption = options.String("heads");
        if (initOption is not null && !kind.TakesInit) throw new UsageException($"--init applies to --model spikegpt only, not --model {kind.Name}");
        if (headsOption is not null && !kind.TakesHeads) throw new UsageException($"--heads applies to --model spiking-lm only, not --model {kind.Name}");
        string init = kind.TakesInit ? options.Choice("init", "rwkv", LanguageModelKind.Inits) : "default";
        int heads = kind.TakesHeads ? options.Int("heads", LanguageModelKind.DefaultHeads, min: 1, max: 1 << 16) : LanguageModelKind.DefaultHeads;
        string? outPath = OutputPaths.File(options, "out");
        string? jsonPath = OutputPaths.File(options, "json");
        string? plotDir = options.String("plot");
        options.RejectUnknown();
        if ((long)context * batch * Math.Max(4L * width, 1) > int.MaxValue)
        {
            throw new UsageException($"--context {context} × --batch {batch} × 4 --width {width} passes {int.MaxValue} elements, the largest tensor one array holds; lower one of them");
        }
        if (plotDir is not null) plotDir = OutputPaths.Folder(options, "plot");
        Parallelism.MaxThreads = threads;

        var (corpus, vocabulary, splits) = LanguageCorpus.LoadForTraining(textFile, options, context);

        ModelSeed.Seed(seed);
        using var model = kind.Build(vocabulary.Count, layers, width, init, heads);
        long parameters = 0;
        foreach (var p in model.Parameters()) parameters += p.Value.Length;
        var recipe = new LanguageModelRecipe(steps, context, batch, lr, lrFinal);
        using var trainer = new LanguageModelTrainer(model, splits.Train, recipe, seed);
        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture,
            "[bold]{0}[/]: {1} layers, width {2}{3}, {4:N0} parameters, init {5}; corpus {6} ({7:N0} characters, vocabulary {8}, sha256 {9}…); " +
            "{10} steps of {11} × {12} characters, lr {13:G3} → {14:G3}, seed {15}, {16} threads",
            kind.Name, layers, width, kind.TakesHeads ? $", {heads} heads" : "", parameters, init, Markup.Escape(corpus.Name), corpus.CharacterCount,
            vocabulary.Count, corpus.Sha256[..16], steps, batch, context, lr, lrFinal, seed, threads);

        var stepLoss = new List<double>(steps);
        var stepMilliseconds = new List<double>(steps);
        double trainSeconds = 0;
        try
        {
            TrainingProgress.Run($"{kind.Name} training", steps, progress =>
            {
                for (int i = 0; i < steps; i++)
                {
                    var step = trainer.TrainStep();
                    trainSeconds += step.Seconds;
                    stepLoss.Add(step.Loss);
                    stepMilliseconds.Add(step.Seconds * 1e3);
                    progress.ReportTokens(step.Step, step.Loss, step.LearningRate, (double)step.Step * batch * context / trainSeconds);
                }
            });
        }
        catch (TrainingDivergedException e)
        {
            throw new CliException(ExitCode.Diverged, string.Create(CultureInfo.InvariantCulture,
                $"{e.Message} with --lr (the default is 6e-4){(outPath is null ? "" : $"; nothing was written to '{outPath}'")}"));
        }
        double tokensPerSecond = (double)steps * batch * context / trainSeconds;
        var (median, min) = Timing(stepMilliseconds);
        double finalLoss = RecentMean(stepLoss);
        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture,
            "train: {0} steps in {1:F1} s, [bold]{2:F0} tokens/s[/], median step {3:F1} ms, min {4:F1} ms; loss {5:F4} nats ({6:F3} bits) over the last {7} steps",
            steps, trainSeconds, tokensPerSecond, median, min, finalLoss, finalLoss / Math.Log(2), Math.Min(steps, ProgressReporter.RecentSteps));

        var results = LanguageModelResults.Evaluate(model, splits, context);
        results.Print();

        if (outPath is not null)
        {
            var metadata = kind.Metadata(model, vocabulary.ToString(), context, steps, init, heads, corpus.Name, corpus.Sha256);
            Write("out", outPath, () => Checkpoint.Save(model, outPath, metadata));
            AnsiConsole.MarkupLine($"checkpoint written to {Markup.Escape(outPath)}");
        }
        if (plotDir is not null)
        {
            Write("plot", plotDir, () =>
            {
                Plots.LossCurve(Path.Combine(plotDir, "loss.png"), stepLoss, $"{kind.Name} on {corpus.Name}: training loss");
                Plots.FiringRates(Path.Combine(plotDir, "firing_rates.png"), results.Rates(), $"{kind.Name}: firing rate per layer (test)");
            });
            AnsiConsole.MarkupLine($"plots written to {Markup.Escape(plotDir)}: loss.png, firing_rates.png");
        }
        if (jsonPath is not null)
        {
            results.WriteJson(jsonPath,
            [
                new("workload", kind.Name), new("mode", "train"), new("engine", "spiking"), new("model", model.Kind),
                new("tokens_per_s", tokensPerSecond), new("steps", steps), new("params", parameters), new("threads", threads),
                new("seed", (long)seed), new("train_s", trainSeconds), new("median_step_ms", median), new("min_step_ms", min),
                new("final_train_loss", finalLoss), new("init", init), new("heads", kind.TakesHeads ? heads : null),
                new("layers", layers), new("width", width), new("ctx", context), new("batch", batch), new("lr", lr), new("lr_final", lrFinal),
                new("vocab_size", vocabulary.Count), new("corpus", corpus.Name), new("corpus_sha256", corpus.Sha256),
                new("corpus_chars", corpus.CharacterCount),
            ]);
        }
        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "peak RSS {0:F0} MiB", MachineInfo.PeakRssMib());
        return 0;
    }

    /// <summary>The mean loss of the last <see cref="ProgressReporter.RecentSteps"/> steps: the reference script's <c>final_train_loss</c>.</summary>
    internal static double RecentMean(List<double> losses)
    {
        int n = Math.Min(losses.Count, ProgressReporter.RecentSteps);
        double sum = 0;
        for (int i = losses.Count - n; i < losses.Count; i++) sum += losses[i];
        return sum / n;
    }

    /// <summary>The median (the mean of the middle two for an even count, as Python's <c>statistics.median</c>) and minimum.</summary>
    internal static (double Median, double Min) Timing(List<double> milliseconds)
    {
        var sorted = milliseconds.ToArray();
        Array.Sort(sorted);
        int n = sorted.Length;
        return ((n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2), sorted[0]);
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
}
