namespace Spiking.Layers;

/// <summary>
/// Where a neuron of the Meta-SpikeFormer family sits, so that <see cref="MetaSpikeFormerLayers.Neuron"/> can give
/// the attention's output neuron its own threshold or level scale (V2: a LIF at threshold 0.5; QSD-Transformer: a
/// multi-level neuron read at another scale).
/// </summary>
public enum MetaSpikeFormerNeuronRole
{
    /// <summary>Every neuron but the attention's output one: <c>lif1</c>, <c>head_lif</c>, <c>q_lif</c>, <c>fc1_lif</c>, <c>encode_lif</c>, the model's <c>lif</c>, ….</summary>
    Ordinary,

    /// <summary>The neuron on the attention's <c>Q·(Kᵀ·V)·scale</c>, <c>attn_lif</c>.</summary>
    AttentionOutput,
}
