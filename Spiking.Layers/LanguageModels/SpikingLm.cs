using System;
using System.Buffers;
using Spiking.Autograd;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// A causal spiking-attention character language model: Spikformer's spiking self-attention (SSA, <c>Q·Kᵀ·V·s</c>
/// with no softmax) run over the tokens under a causal mask, in the family of the winner-take-all spiking
/// transformer and BiSpikCLM. Everything is time first, <c>[T, B, C]</c>, and every LIF neuron runs along the token
/// axis (τ = 2, threshold 1, hard reset to 0, ATan(2): SpikingJelly's <c>MultiStepLIFNode</c> as SpikeGPT uses it).
/// </summary>
/// <remarks>
/// <para>
/// <c>emb</c>: a binary embedding, <c>spikes = emb.weight[token] ≥ 0</c> with an ATan(2) surrogate. Block l
/// (<c>blocks.l.*</c>): <c>x += lif1(att.output(LIF_{0.5}(s·causal(Q·Kᵀ)·V)))</c> with <c>q, k, v =
/// LIF(att.q/k/v(ln1(x)))</c>, heads split along C and s = 0.125 (Spikformer's); then <c>x += lif2(mlp.fc2(LIF(
/// mlp.fc1(ln2(x)))))</c> with a 4C hidden layer; then dropout on x in training (each element of <c>[T, B, C]</c> on
/// its own, one generator per block). <c>ln_out</c> and <c>head</c> (C → V) give the logits. No Linear has a bias.
/// LayerNorm replaces Spikformer's batch norm: batch statistics would carry later tokens into earlier outputs.
/// </para>
/// <para>
/// Initialisation, all from the generator in module order: the embedding <c>N(0, 1)</c> (about half its bits
/// fire); the blocks' Linear layers <c>U(±√(3/fan_in))</c>, variance <c>1/fan_in</c>, so the LIFs after a LayerNorm
/// see unit-variance currents (PyTorch's <c>U(±1/√fan_in)</c> left them nearly silent); <c>head</c> PyTorch's
/// <c>U(±1/√fan_in)</c>; LayerNorm ones and zeros. At initialisation the projections of sparse spikes
/// (<c>att.output</c>, <c>mlp.fc2</c>) rarely reach the threshold of <c>lif1</c> and <c>lif2</c>, so the blocks
/// start close to the identity on the residual stream.
/// </para>
/// <para>
/// Recurrent mode: causal attention without softmax is linear attention, <c>Σ_{j≤i} (q_i·k_j) v_j = q_iᵀ·S_i</c>
/// with <c>S_i = Σ_{j≤i} k_j v_jᵀ</c>, so each block carries S per head (integer counts) and its LIF membranes:
/// constant memory per token. The attention is exact in both modes; the Linear layers round as the SGEMM or the
/// spike kernel of the row count at hand (one token takes the short product loop, a window the blocked FMA
/// kernel), so the logits agree to float rounding rather than bit for bit.
/// </para>
/// </remarks>
public sealed class SpikingLm : LanguageModel
{
    private readonly BinaryEmbedding _emb;
    private readonly SpikingLmBlock[] _blocks;
    private readonly LayerNorm _lnOut;
    private readonly Linear _head;

    /// <summary>
    /// A model of <paramref name="layers"/> blocks of width <paramref name="width"/> over <paramref name="vocabularySize"/>
    /// tokens, with <paramref name="heads"/> attention heads and <paramref name="dropout"/> after each block. Weights
    /// come from <paramref name="generator"/> (null: <see cref="ModelSeed.Shared"/>); block l's dropout masks from the
    /// same seed on the dropout stream of layer l when a generator is given, else from the model seed's next default
    /// dropout streams.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, <paramref name="heads"/> does not divide <paramref name="width"/>, or <paramref name="dropout"/> is outside <c>[0, 1)</c>.</exception>
    public SpikingLm(int vocabularySize, int layers, int width, int heads = 4, double dropout = 0.03, PhiloxGenerator? generator = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabularySize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(heads);
        if (width % heads != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(heads), heads, $"SpikingLm splits its width {width} into heads; {heads} heads do not divide it.");
        }
        if (!(dropout >= 0 && dropout < 1)) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "SpikingLm needs a dropout probability in [0, 1).");
        (VocabularySize, LayerCount, Width, Heads, Dropout) = (vocabularySize, layers, width, heads, dropout);
        var weights = generator ?? ModelSeed.Shared;
        _emb = RegisterModule("emb", new BinaryEmbedding(vocabularySize, width, weights));
        _blocks = new SpikingLmBlock[layers];
        for (int l = 0; l < layers; l++)
        {
            var masks = generator is null ? ModelSeed.NextDropoutGenerator() : new PhiloxGenerator(generator.Seed, RandomStreams.DropoutLayer((uint)l));
            _blocks[l] = new SpikingLmBlock(width, heads, Scale, (float)dropout, weights, masks);
        }
        // A Sequential only as the container that names the blocks 0, 1, …; the model runs them itself.
        RegisterModule("blocks", new Sequential(_blocks));
        _lnOut = RegisterModule("ln_out", new LayerNorm(width));
        _head = RegisterModule("head", new Linear(width, vocabularySize, bias: false, weights));
    }

    /// <summary>The attention scale s (Spikformer's 0.125).</summary>
    public const float Scale = 0.125f;

    /// <inheritdoc/>
    public override int VocabularySize { get; }

    /// <inheritdoc/>
    public override int LayerCount { get; }

    /// <inheritdoc/>
    public override int Width { get; }

    /// <summary>The number of attention heads; each sees <c>Width / Heads</c> channels.</summary>
    public int Heads { get; }

    /// <summary>The dropout probability after each block, in training.</summary>
    public double Dropout { get; }

    /// <inheritdoc/>
    public override string Kind => "spiking-lm";

    /// <inheritdoc/>
    public override Variable Forward(ReadOnlySpan<int> tokens, int batch, int length)
    {
        CheckWindows(tokens, batch, length);
        int count = tokens.Length;
        int[] timeFirst = ArrayPool<int>.Shared.Rent(count);
        try
        {
            for (int b = 0; b < batch; b++)
            {
                for (int t = 0; t < length; t++) timeFirst[t * batch + b] = tokens[b * length + t];
            }
            var x = Functional.SpikesToDense(_emb.Forward(timeFirst.AsSpan(0, count), new Shape(length, batch)));
            foreach (var block in _blocks) x = block.Forward(x);
            return _head.Forward(_lnOut.Forward(x));
        }
        finally
        {
            ArrayPool<int>.Shared.Return(timeFirst);
        }
    }

    /// <inheritdoc/>
    public override LanguageModelState CreateState() => new SpikingLmState(this, LayerCount, Heads, Width / Heads);

    /// <inheritdoc/>
    /// <remarks>Recurrent mode is inference: dropout is off whatever the training mode.</remarks>
    public override void Feed(int token, LanguageModelState state, Span<float> logits)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state is not SpikingLmState own || !ReferenceEquals(own.Owner, this))
        {
            throw new ArgumentException($"'state' is a {state.GetType().Name} that this SpikingLm did not create; pass the state from its CreateState().", nameof(state));
        }
        CheckFeed(token, logits);
        using var noGrad = GradMode.NoGrad();
        Span<int> one = [token];
        Variable x;
        using (var spikes = _emb.Forward(one, new Shape(1, 1))) x = Functional.SpikesToDense(spikes);
        for (int l = 0; l < _blocks.Length; l++)
        {
            var next = _blocks[l].Feed(x, own.Layers[l]);
            x.Dispose();
            x = next;
        }
        using (x)
        using (var h = _lnOut.Forward(x))
        using (var y = _head.Forward(h))
        {
            y.Dense.AsReadOnlySpan().CopyTo(logits);
        }
        own.Advance();
    }
}
