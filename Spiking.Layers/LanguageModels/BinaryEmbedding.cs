using System;
using Spiking.Autograd;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// SpikeGPT's binary embedding: a token's row of the embedding table through the Heaviside step,
/// <c>spike = 1 where weight[token] ≥ 0</c>, with the ATan surrogate (α = 2) in the backward, so the table learns
/// through its signs. Its output counts as a spiking layer's (firing rate and energy, under the module's name).
/// </summary>
public sealed class BinaryEmbedding : Module, INeuronLayer
{
    private readonly Surrogate _surrogate = new ATan();

    /// <summary>A table of <paramref name="vocabulary"/> rows of <paramref name="channels"/>, drawn from N(0, 1) (PyTorch's <c>nn.Embedding</c>).</summary>
    public BinaryEmbedding(int vocabulary, int channels, PhiloxGenerator? generator = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabulary);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        (Vocabulary, Channels) = (vocabulary, channels);
        Weight = RegisterParameter("weight", Tensor.Empty(vocabulary, channels));
        (generator ?? ModelSeed.Shared).FillNormal(Weight.Value);
    }

    /// <summary>The rows of the table (V).</summary>
    public int Vocabulary { get; }

    /// <summary>The channels of a row (C).</summary>
    public int Channels { get; }

    /// <summary>The table <c>[V, C]</c>.</summary>
    public Parameter Weight { get; }

    /// <inheritdoc/>
    public bool CountSpikes { get; set; }

    /// <inheritdoc/>
    public bool KeepLastSpikes { get; set; }

    /// <inheritdoc/>
    public long SpikeCount { get; private set; }

    /// <inheritdoc/>
    public long NeuronSteps { get; private set; }

    /// <inheritdoc/>
    public double FiringRate => NeuronSteps == 0 ? 0 : (double)SpikeCount / NeuronSteps;

    /// <inheritdoc/>
    public SpikeTensor? LastSpikes { get; private set; }

    /// <inheritdoc/>
    public void ClearCounts() => (SpikeCount, NeuronSteps) = (0, 0);

    /// <summary>The spikes of <paramref name="tokens"/> laid out as <paramref name="shape"/>: <c>[shape…, C]</c> bits.</summary>
    /// <exception cref="ArgumentException">The token count is not the shape's, or an id is outside <c>[0, V)</c>.</exception>
    public Variable Forward(ReadOnlySpan<int> tokens, Shape shape)
    {
        var rows = Functional.Embedding(Weight, tokens, shape);
        var spikes = Functional.Spike(rows, _surrogate, 0f);
        var bits = spikes.Spikes!;
        if (CountSpikes)
        {
            SpikeCount += bits.PopCount();
            NeuronSteps += bits.Shape.ElementCount;
        }
        if (KeepLastSpikes)
        {
            LastSpikes?.Dispose();
            LastSpikes = bits.Clone();
        }
        return spikes;
    }

    /// <summary>Reads token ids from a dense tensor of whole numbers (the embedding's input convention) and embeds them.</summary>
    /// <exception cref="ArgumentException"><paramref name="input"/> holds spikes or values that are not ids.</exception>
    public override Variable Forward(Variable input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var values = input.Tensor?.AsReadOnlySpan().ToArray() ?? throw new ArgumentException(
            $"BinaryEmbedding takes token ids as whole numbers in a dense tensor; 'input' holds spikes of shape {input.Shape}.", nameof(input));
        var tokens = new int[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            float v = values[i];
            if (v != MathF.Floor(v) || v < 0 || v >= Vocabulary)
            {
                throw new ArgumentException($"input[{i}] is {v}; token ids must be whole numbers in [0, {Vocabulary}).", nameof(input));
            }
            tokens[i] = (int)v;
        }
        return Forward(tokens, input.Shape);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) LastSpikes?.Dispose();
        base.Dispose(disposing);
    }
}
