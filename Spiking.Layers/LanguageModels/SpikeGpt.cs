using System;
using System.Collections.Generic;
using Spiking.Autograd;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// SpikeGPT (Zhu et al., arXiv 2302.13939; the official <c>ridgerchu/SpikeGPT</c> <c>src/model.py</c>): a spiking
/// RWKV-4 language model. <c>x = Heaviside(emb[token])</c> (binary embedding, ATan surrogate), then the blocks
/// (<see cref="SpikeGptBlock"/>), then <c>head(ln_out(x))</c> without bias. State-dict names and shapes are the
/// official ones (<c>emb.weight</c>, <c>blocks.N.att.time_decay</c>, …, <c>head.weight</c>), so checkpoints cross with
/// the official code and the PyTorch peer both ways.
/// </summary>
public sealed class SpikeGpt : LanguageModel
{
    private readonly SpikeGptBlock[] _blocks;

    /// <summary>
    /// A model for <paramref name="vocabularySize"/> tokens with <paramref name="layers"/> blocks of
    /// <paramref name="width"/> channels, initialised as <paramref name="init"/> says from
    /// <paramref name="generator"/> (null: <see cref="ModelSeed.Shared"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive or the dropout is outside <c>[0, 1)</c>.</exception>
    public SpikeGpt(int vocabularySize, int layers, int width, SpikeGptInit init = SpikeGptInit.Rwkv, double dropout = 0.03, PhiloxGenerator? generator = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabularySize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        generator ??= ModelSeed.Shared;
        (VocabularySize, LayerCount, Width, Init) = (vocabularySize, layers, width, init);
        Embedding = RegisterModule("emb", new BinaryEmbedding(vocabularySize, width, generator));
        _blocks = new SpikeGptBlock[layers];
        for (int l = 0; l < layers; l++) _blocks[l] = new SpikeGptBlock(width, l, layers, dropout, generator);
        RegisterModule("blocks", new Sequential(_blocks));
        OutputNorm = RegisterModule("ln_out", new LayerNorm(width));
        Head = RegisterModule("head", new Linear(width, vocabularySize, bias: false, generator));
        if (init != SpikeGptInit.Torch) InitialiseAsRwkv(init == SpikeGptInit.RwkvZero, generator);
    }

    /// <inheritdoc/>
    public override int VocabularySize { get; }

    /// <inheritdoc/>
    public override int LayerCount { get; }

    /// <inheritdoc/>
    public override int Width { get; }

    /// <inheritdoc/>
    public override string Kind => "spikegpt";

    /// <summary>The initialisation the model was built with.</summary>
    public SpikeGptInit Init { get; }

    /// <summary><c>emb</c>.</summary>
    public BinaryEmbedding Embedding { get; }

    /// <summary>The blocks, <c>blocks.0</c> … .</summary>
    public IReadOnlyList<SpikeGptBlock> Blocks => _blocks;

    /// <summary><c>ln_out</c>.</summary>
    public LayerNorm OutputNorm { get; }

    /// <summary><c>head</c>, C → V without bias.</summary>
    public Linear Head { get; }

    /// <inheritdoc/>
    public override Variable Forward(ReadOnlySpan<int> tokens, int batch, int length)
    {
        CheckWindows(tokens, batch, length);
        // Windows arrive batch-major; the neurons, the token shift and the scan run time first.
        var timeFirst = new int[tokens.Length];
        for (int b = 0; b < batch; b++)
        {
            for (int t = 0; t < length; t++) timeFirst[t * batch + b] = tokens[b * length + t];
        }
        var x = Functional.SpikesToDense(Embedding.Forward(timeFirst, new Shape(length, batch)));
        foreach (var block in _blocks) x = block.Forward(x);
        return Head.Forward(OutputNorm.Forward(x));
    }

    /// <inheritdoc/>
    public override LanguageModelState CreateState() => new SpikeGptState(this);

    /// <inheritdoc/>
    public override void Feed(int token, LanguageModelState state, Span<float> logits)
    {
        ArgumentNullException.ThrowIfNull(state);
        CheckFeed(token, logits);
        if (state is not SpikeGptState own || !ReferenceEquals(own.Model, this))
        {
            throw new ArgumentException("The state was created by another model; use this model's CreateState().", nameof(state));
        }
        using var noGrad = GradMode.NoGrad();
        using var scope = DisposeScope.Begin();
        var x = Functional.SpikesToDense(Embedding.Forward([token], new Shape(1, 1)));
        for (int l = 0; l < _blocks.Length; l++) x = _blocks[l].Forward(x, own.Layers[l]);
        Head.Forward(OutputNorm.Forward(x)).Dense.AsReadOnlySpan().CopyTo(logits);
        own.Advance();
    }

    private void InitialiseAsRwkv(bool zeroAsWritten, PhiloxGenerator generator)
    {
        int v = VocabularySize, c = Width;
        Initialization.Orthogonal(Embedding.Weight.Value, Math.Sqrt(Math.Max(v, c)) * 1e-4, generator);
        foreach (var block in _blocks)
        {
            var att = block.TimeMix;
            var ffn = block.ChannelMix;
            Orthogonal(att.Key, zeroAsWritten ? 0 : 1);
            Orthogonal(att.Value, 1);
            Orthogonal(att.Receptance, zeroAsWritten ? 0 : 1);
            Orthogonal(att.Output, zeroAsWritten ? 0 : 1);
            Orthogonal(ffn.Key, zeroAsWritten ? 2 : 1);
            Orthogonal(ffn.Receptance, zeroAsWritten ? 0 : 1);
            Orthogonal(ffn.Value, zeroAsWritten ? 0 : 1);
        }
        Initialization.Orthogonal(Head.Weight.Value, 0.5 * (v > c ? Math.Sqrt(v / (double)c) : 1.0), generator);

        void Orthogonal(Linear layer, double gain)
        {
            if (gain == 0) layer.Weight.Value.AsSpan().Clear();
            else Initialization.Orthogonal(layer.Weight.Value, gain, generator);
        }
    }

    /// <summary>SpikeGPT's recurrent state: each block's token-shift vectors, WKV sums and membranes, for one sequence.</summary>
    private sealed class SpikeGptState : LanguageModelState
    {
        public SpikeGptState(SpikeGpt model)
        {
            Model = model;
            Layers = new SpikeGptLayerState[model.LayerCount];
            for (int l = 0; l < Layers.Length; l++) Layers[l] = new SpikeGptLayerState(1, model.Width);
        }

        public SpikeGpt Model { get; }

        public SpikeGptLayerState[] Layers { get; }

        public void Advance() => Position++;

        public override void Reset()
        {
            foreach (var layer in Layers) layer.Reset();
            Position = 0;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                foreach (var layer in Layers) layer.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
