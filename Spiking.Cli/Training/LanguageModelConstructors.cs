using Spiking.Layers;

namespace Spiking.Cli.Training;

/// <summary>The constructors of the CLI's language models, by kind.</summary>
internal static class LanguageModelConstructors
{
    /// <summary>Builds the model; <paramref name="init"/> is one of <see cref="LanguageModelKind.Inits"/> for SpikeGPT.</summary>
    public static LanguageModel Create(LanguageModelKind kind, int vocabulary, int layers, int width, string init, int heads)
    {
        if (kind == LanguageModelKind.SpikeGpt)
        {
            var how = init switch
            {
                "rwkv-zero" => SpikeGptInit.RwkvZero,
                "torch" => SpikeGptInit.Torch,
                _ => SpikeGptInit.Rwkv,
            };
            return new SpikeGpt(vocabulary, layers, width, how);
        }
        return new SpikingLm(vocabulary, layers, width, heads);
    }
}
