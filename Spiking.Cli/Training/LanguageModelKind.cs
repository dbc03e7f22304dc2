using System;
using System.Collections.Generic;
using System.Globalization;
using Spiking.Layers;
using Spiking.Layers.Serialization;

namespace Spiking.Cli.Training;

/// <summary>
/// A character-level language model the CLI trains, evaluates and samples from: <c>spikegpt</c> (SpikeGPT, the
/// spiking RWKV of the reference script <c>torch_spikegpt.py</c>) or <c>spiking-lm</c>. Its name is the model's
/// <see cref="LanguageModel.Kind"/>, which checkpoints record as their <c>model</c> metadata.
/// </summary>
internal sealed class LanguageModelKind
{
    private LanguageModelKind(string name, bool takesInit, bool takesHeads) => (Name, TakesInit, TakesHeads) = (name, takesInit, takesHeads);

    /// <summary>The <c>--model</c> name and the checkpoint's <c>model</c> metadata.</summary>
    public string Name { get; }

    /// <summary>Whether <c>--init</c> applies (SpikeGPT's initialisations).</summary>
    public bool TakesInit { get; }

    /// <summary>Whether <c>--heads</c> applies.</summary>
    public bool TakesHeads { get; }

    public static LanguageModelKind SpikeGpt { get; } = new("spikegpt", takesInit: true, takesHeads: false);

    public static LanguageModelKind SpikingLm { get; } = new("spiking-lm", takesInit: false, takesHeads: true);

    /// <summary>The names <c>--init</c> takes, in the reference script's spelling.</summary>
    public static readonly string[] Inits = ["rwkv", "rwkv-zero", "torch"];

    /// <summary>The heads <c>spiking-lm</c> has unless told otherwise.</summary>
    public const int DefaultHeads = 4;

    /// <summary>The language model of a <c>--model</c> name or checkpoint <c>model</c> metadata, or null.</summary>
    public static LanguageModelKind? TryParse(string? name) => name switch
    {
        "spikegpt" => SpikeGpt,
        "spiking-lm" => SpikingLm,
        _ => null,
    };

    /// <summary>
    /// Builds the model, drawing its initial weights from <see cref="ModelSeed"/>.
    /// </summary>
    /// <exception cref="UsageException">The sizes do not make a model (the constructor's reason, on one line).</exception>
    public LanguageModel Build(int vocabulary, int layers, int width, string init, int heads)
    {
        try
        {
            return LanguageModelConstructors.Create(this, vocabulary, layers, width, init, heads);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--model {Name} with --layers {layers} --width {width}{(TakesHeads ? $" --heads {heads}" : "")}: {e.Message}");
        }
    }

    /// <summary>The metadata keys of a language-model checkpoint, the reference script's.</summary>
    public const string VocabKey = "vocab", LayersKey = "n_layer", WidthKey = "n_embd", ContextKey = "ctx_len", StepsKey = "steps",
        InitKey = "init", CorpusKey = "corpus", CorpusShaKey = "corpus_sha256", HeadsKey = "n_head";

    /// <summary>The checkpoint metadata of a trained model, with the reference script's keys (and <c>n_head</c> where heads apply).</summary>
    public Dictionary<string, string> Metadata(LanguageModel model, string vocabulary, int context, int steps, string init, int heads, string corpus, string corpusSha256)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [ModelKind.ModelKey] = model.Kind,
            [VocabKey] = vocabulary,
            [LayersKey] = Text(model.LayerCount),
            [WidthKey] = Text(model.Width),
            [ContextKey] = Text(context),
            [StepsKey] = Text(steps),
            [InitKey] = init,
            [CorpusKey] = corpus,
            [CorpusShaKey] = corpusSha256,
        };
        if (TakesHeads) metadata[HeadsKey] = Text(heads);
        return metadata;
    }

    /// <summary>
    /// What a checkpoint says about its model: the vocabulary (metadata), the layers (the number of
    /// <c>blocks.N.ln1.weight</c> entries), the width (<c>emb.weight</c>'s columns), the context (<c>ctx_len</c>, 128
    /// when absent, as the reference script) and the heads (<c>n_head</c>).
    /// </summary>
    /// <exception cref="InputException">A required entry or metadata value is missing or malformed.</exception>
    public static LanguageModelCheckpoint Read(SafeTensorsFile file, LanguageModelKind kind)
    {
        var metadata = file.Metadata;
        if (!metadata.TryGetValue(VocabKey, out var vocabText))
        {
            throw new InputException($"checkpoint '{file.Source}' has no '{VocabKey}' in its metadata, so its characters are unknown");
        }
        Layers.Data.CharVocabulary vocabulary;
        try
        {
            vocabulary = Layers.Data.CharVocabulary.Parse(vocabText);
        }
        catch (FormatException e)
        {
            throw new InputException($"checkpoint '{file.Source}': its '{VocabKey}' metadata is not a vocabulary: {e.Message}");
        }
        if (!file.TryGetEntry("emb.weight", out var embedding) || embedding.Shape.Rank != 2)
        {
            throw new InputException($"checkpoint '{file.Source}' has no 2-D 'emb.weight', so its width is unknown");
        }
        int layers = 0;
        foreach (var entry in file.Entries)
        {
            if (entry.Name.StartsWith("blocks.", StringComparison.Ordinal) && entry.Name.EndsWith(".ln1.weight", StringComparison.Ordinal)) layers++;
        }
        if (layers == 0) throw new InputException($"checkpoint '{file.Source}' has no 'blocks.N.ln1.weight' entries, so its layers are unknown");
        int context = Number(file, ContextKey, 128);
        int heads = kind.TakesHeads ? Number(file, HeadsKey, DefaultHeads) : DefaultHeads;
        return new LanguageModelCheckpoint(kind, vocabulary, layers, embedding.Shape[1], context, heads);
    }

    private static int Number(SafeTensorsFile file, string key, int fallback)
    {
        if (!file.Metadata.TryGetValue(key, out var text)) return fallback;
        return Options.ParseInt(text, 1, int.MaxValue, out int value) ? value
            : throw new InputException($"checkpoint '{file.Source}' records {key}='{text}' in its metadata; expected an integer >= 1");
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A language-model checkpoint's shape and vocabulary, as <see cref="LanguageModelKind.Read"/> finds them.</summary>
internal sealed record LanguageModelCheckpoint(LanguageModelKind Kind, Layers.Data.CharVocabulary Vocabulary, int Layers, int Width, int Context, int Heads)
{
    /// <summary>The model to load the weights into (its initial weights are overwritten).</summary>
    public LanguageModel Build() => Kind.Build(Vocabulary.Count, Layers, Width, "torch", Heads);
}
