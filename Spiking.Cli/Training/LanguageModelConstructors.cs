using System;
using Spiking.Layers;

namespace Spiking.Cli.Training;

/// <summary>The constructors of the CLI's language models, by kind.</summary>
internal static class LanguageModelConstructors
{
    public static LanguageModel Create(LanguageModelKind kind, int vocabulary, int layers, int width, string init, int heads) =>
        throw new NotSupportedException($"--model {kind.Name} is not built into this version yet ({vocabulary}, {layers}, {width}, {init}, {heads})");
}
