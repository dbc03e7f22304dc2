using System;
using System.Diagnostics;
using Spiking.Layers;
using Spiking.Layers.Serialization;
using Spiking.Tensors;

namespace Spiking.Cli.Training;

/// <summary>
/// <c>spiking generate --checkpoint FILE</c>: continues a prompt with characters sampled from a language-model
/// checkpoint in recurrent mode, each written to standard output (and flushed) as soon as it is drawn.
/// </summary>
internal static class GenerateCommand
{
    public static int Run(Options options)
    {
        string path = options.String("checkpoint") ?? throw new UsageException("generate needs --checkpoint FILE");
        string prompt = options.String("prompt") ?? "In the beginning";
        int count = options.Int("tokens", 200, min: 0);
        double temperature = options.Double("temperature", 1.0, min: 1e-6, max: 1e6);
        ulong seed = (ulong)options.Int("seed", 0, min: 0);
        int threads = options.Int("threads", 1, min: 1, max: Options.MaxThreads);
        string? jsonPath = OutputPaths.File(options, "json");
        options.RejectUnknown();
        Parallelism.MaxThreads = threads;

        var file = SafeTensors.Read(path);
        file.Metadata.TryGetValue(ModelKind.ModelKey, out var name);
        var kind = LanguageModelKind.TryParse(name) ?? throw new InputException(
            $"checkpoint '{path}' holds {(name is null ? "no 'model' metadata" : $"model '{name}'")}, not a language model (spikegpt or spiking-lm)");
        var checkpoint = LanguageModelKind.Read(file, kind);
        using var model = checkpoint.Build();
        Checkpoint.Load(model, file);
        var generator = new TextGenerator(model, checkpoint.Vocabulary);
        System.Collections.Generic.IEnumerable<string> characters;
        try
        {
            characters = generator.Generate(prompt, count, temperature, seed);
        }
        catch (ArgumentException e) when (e.ParamName == "prompt")
        {
            throw new UsageException($"--prompt: {e.Message}");
        }
        var output = Console.Out;
        output.Write(prompt);
        output.Flush();
        long produced = 0;
        double firstRss = 0;
        var clock = Stopwatch.StartNew();
        foreach (string character in characters)
        {
            if (produced == 0) firstRss = MachineInfo.CurrentRssMib();
            output.Write(character);
            output.Flush();
            produced++;
        }
        double seconds = clock.Elapsed.TotalSeconds;
        output.WriteLine();
        if (jsonPath is not null) WriteJson(jsonPath, kind.Name, prompt.Length, produced, seconds, threads, firstRss);
        return 0;
    }

    /// <summary>
    /// One JSON line: characters sampled per second (the prompt's tokens fed first included in the time), and the
    /// resident memory when the first character came out beside the process's peak, which stay apart by no more
    /// than noise when the memory is flat in the number of characters.
    /// </summary>
    private static void WriteJson(string path, string workload, int promptChars, long produced, double seconds, int threads, double firstRss) =>
        JsonLines.AppendObject(path, w =>
        {
            w.WriteString("workload", workload);
            w.WriteString("mode", "generate");
            w.WriteString("engine", "spiking");
            w.WriteNumber("prompt_chars", promptChars);
            w.WriteNumber("tokens", produced);
            JsonLines.Number(w, "generate_s", seconds);
            JsonLines.Number(w, "chars_per_s", seconds > 0 ? produced / seconds : double.NaN);
            w.WriteNumber("threads", threads);
            JsonLines.Number(w, "rss_mb_at_first_char", firstRss);
            JsonLines.Number(w, "rss_mb_at_end", MachineInfo.CurrentRssMib());
            JsonLines.Number(w, "peak_rss_mb", MachineInfo.PeakRssMib());
            w.WriteString("cpu", MachineInfo.CpuName());
        });
}
