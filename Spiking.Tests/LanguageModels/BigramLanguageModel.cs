using System;
using Spiking.Autograd;
using Spiking.Layers;
using Spiking.Tensors;

namespace Spiking.Tests.LanguageModels;

/// <summary>
/// A test-only language model whose logits can be computed by hand: the logits after token a are row a of the
/// parameter <c>table</c> [V, V], whatever came before. A LIF layer (<c>lif</c>) watches the logits without
/// feeding anything, so evaluation has firing rates to count while the logits stay the bigram table's.
/// </summary>
internal sealed class BigramLanguageModel : LanguageModel
{
    private readonly Parameter _table;
    private readonly LeakyIntegrateAndFire _lif;

    public BigramLanguageModel(int vocabulary, float[]? table = null)
    {
        _table = RegisterParameter("table", table is null ? Tensor.Zeros(vocabulary, vocabulary) : Tensor.FromArray(table, vocabulary, vocabulary));
        _lif = RegisterModule("lif", new LeakyIntegrateAndFire());
        VocabularySize = vocabulary;
    }

    public override int VocabularySize { get; }

    public override int LayerCount => 1;

    public override int Width => VocabularySize;

    public override string Kind => "bigram";

    public Parameter Table => _table;

    public override Variable Forward(ReadOnlySpan<int> tokens, int batch, int length)
    {
        CheckWindows(tokens, batch, length);
        var timeFirst = new int[tokens.Length];
        for (int b = 0; b < batch; b++)
        {
            for (int t = 0; t < length; t++) timeFirst[t * batch + b] = tokens[b * length + t];
        }
        var logits = Functional.Embedding(_table.Variable, timeFirst, new Shape(length, batch));
        _lif.Forward(logits);
        return logits;
    }

    public override LanguageModelState CreateState() => new BigramState();

    public override void Feed(int token, LanguageModelState state, Span<float> logits)
    {
        CheckFeed(token, logits);
        if (state is not BigramState bigram) throw new ArgumentException("Not a bigram state.", nameof(state));
        _table.Value.AsReadOnlySpan().Slice(token * VocabularySize, VocabularySize).CopyTo(logits);
        bigram.Advance();
    }

    private sealed class BigramState : LanguageModelState
    {
        public void Advance() => Position++;

        public override void Reset() => Position = 0;
    }
}
