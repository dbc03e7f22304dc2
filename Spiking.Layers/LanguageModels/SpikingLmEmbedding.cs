using System;
using Spiking.Autograd;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// <see cref="SpikingLm"/>'s binary embedding: a table <c>weight [V, C]</c> (initialised from <c>N(0, 1)</c>, as
/// PyTorch's <c>nn.Embedding</c>) whose row for a token fires where it is ≥ 0, with an ATan(2) surrogate, so the
/// model's input is already spikes. It reports its firing rate like a neuron layer, under the model's <c>emb</c>.
/// </summary>
internal sealed class SpikingLmEmbedding : Module, INeuronLayer
{
    private static readonly Surrogate Surrogate = new ATan();
    private SpikeTensor? _last;

    /// <summary>A table of <paramref name="vocabulary"/> rows of <paramref name="channels"/> values drawn from <paramref name="generator"/>.</summary>
    public SpikingLmEmbedding(int vocabulary, int channels, PhiloxGenerator generator)
    {
        Weight = RegisterParameter("weight", Tensor.Empty(vocabulary, channels));
        generator.FillNormal(Weight.Value);
    }

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
    public SpikeTensor? LastSpikes => _last;

    /// <inheritdoc/>
    public void ClearCounts() => (SpikeCount, NeuronSteps) = (0, 0);

    /// <summary>The spikes of <paramref name="tokens"/> laid out as <paramref name="shape"/>: <c>[..shape, C]</c>.</summary>
    public Variable Forward(ReadOnlySpan<int> tokens, Shape shape)
    {
        using var rows = Functional.Embedding(Weight, tokens, shape);
        var spikes = Functional.Spike(rows, Surrogate, 0f);
        var bits = spikes.Spikes!;
        if (CountSpikes)
        {
            SpikeCount += bits.PopCount();
            NeuronSteps += bits.Shape.ElementCount;
        }
        if (KeepLastSpikes)
        {
            _last?.Dispose();
            _last = bits.Clone();
        }
        return spikes;
    }

    /// <summary>Not used: the model hands this layer token ids, not a tensor.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    public override Variable Forward(Variable input) =>
        throw new NotSupportedException("SpikingLmEmbedding takes token ids: call Forward(tokens, shape).");

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _last?.Dispose();
            _last = null;
        }
        base.Dispose(disposing);
    }
}
