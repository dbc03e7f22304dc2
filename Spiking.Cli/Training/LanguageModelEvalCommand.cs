using System;
using System.Globalization;
using Spectre.Console;
using Spiking.Layers;
using Spiking.Layers.Serialization;
using Spiking.Tensors;

namespace Spiking.Cli.Training;

/// <summary>
/// <c>spiking eval --checkpoint FILE</c> for a language-model checkpoint (ours or the reference script's): model,
/// vocabulary and sizes from the file, validation and test bits per character, firing rates and energy on the corpus.
/// </summary>
internal static class LanguageModelEvalCommand
{
    public static int Run(Options options, SafeTensorsFile file, LanguageModelKind kind)
    {
        string? textFile = LanguageCorpus.TextOption(options);
        int threads = options.Int("threads", Environment.ProcessorCount, min: 1, max: Options.MaxThreads);
        string? jsonPath = OutputPaths.File(options, "json");
        options.RejectUnknown();
        Parallelism.MaxThreads = threads;

        var checkpoint = LanguageModelKind.Read(file, kind);
        var corpus = LanguageCorpus.Load(textFile, options);
        if (file.Metadata.TryGetValue(LanguageModelKind.CorpusShaKey, out var trainedOn) && trainedOn != corpus.Sha256)
        {
            options.Warn($"checkpoint '{file.Source}' was trained on another text (sha256 {trainedOn[..Math.Min(16, trainedOn.Length)]}...) than corpus '{corpus.Name}' ({corpus.Sha256[..16]}...)");
        }
        var splits = LanguageCorpus.Split(corpus, checkpoint.Vocabulary, checkpoint.Context, training: false);
        using var model = checkpoint.Build();
        Checkpoint.Load(model, file);
        file.Metadata.TryGetValue(LanguageModelKind.StepsKey, out var steps);
        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "[bold]{0}[/] from {1}: {2} layers, width {3}, context {4}, vocabulary {5}, {6} training steps; corpus {7}",
            kind.Name, Markup.Escape(file.Source), checkpoint.Layers, checkpoint.Width, checkpoint.Context, checkpoint.Vocabulary.Count,
            Markup.Escape(steps ?? "?"), Markup.Escape(corpus.Name));
        var results = LanguageModelResults.Evaluate(model, splits, checkpoint.Context);
        results.Print();
        if (jsonPath is not null)
        {
            long parameters = 0;
            foreach (var p in model.Parameters()) parameters += p.Value.Length;
            results.WriteJson(jsonPath,
            [
                new("workload", kind.Name), new("mode", "eval"), new("engine", "spiking"), new("model", model.Kind), new("checkpoint", file.Source),
                new("tokens_per_s", null), new("steps", steps is not null && Options.ParseInt(steps, 0, int.MaxValue, out int s) ? s : null),
                new("params", parameters), new("threads", threads), new("layers", checkpoint.Layers), new("width", checkpoint.Width),
                new("ctx", checkpoint.Context), new("heads", kind.TakesHeads ? checkpoint.Heads : null), new("vocab_size", checkpoint.Vocabulary.Count),
                new("corpus", corpus.Name), new("corpus_sha256", corpus.Sha256), new("corpus_chars", corpus.CharacterCount),
            ]);
        }
        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "peak RSS {0:F0} MiB", MachineInfo.PeakRssMib());
        return 0;
    }
}
