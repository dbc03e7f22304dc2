using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// A layer of spiking neurons, whatever its dynamics (a <see cref="SpikingNeuron"/> over any neuron model, or a
/// parallel spiking neuron): it keeps state over time, so it cannot be part of a static prefix, and it counts the
/// spikes it emits so the firing-rate and energy reports (<see cref="EnergyModel"/>) see it.
/// </summary>
public interface INeuronLayer
{
    /// <summary>Whether forward passes count emitted spikes (for <see cref="FiringRate"/>); off by default.</summary>
    bool CountSpikes { get; set; }

    /// <summary>Whether the last output's bits are kept (for a spike raster); off by default.</summary>
    bool KeepLastSpikes { get; set; }

    /// <summary>Spikes counted since the last <see cref="ClearCounts"/>.</summary>
    long SpikeCount { get; }

    /// <summary>Neuron-steps counted since the last <see cref="ClearCounts"/>.</summary>
    long NeuronSteps { get; }

    /// <summary>The counted firing rate: spikes per neuron per step, 0 before anything was counted.</summary>
    double FiringRate { get; }

    /// <summary>The bits of the last output when <see cref="KeepLastSpikes"/> is on and the output is spikes (owned by the layer).</summary>
    SpikeTensor? LastSpikes { get; }

    /// <summary>Starts counting from zero.</summary>
    void ClearCounts();
}
