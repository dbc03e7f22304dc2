using System;
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
        foreach (string character in characters)
        {
            output.Write(character);
            output.Flush();
        }
        output.WriteLine();
        return 0;
    }
}
