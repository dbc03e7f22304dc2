using System;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// The spike bookkeeping of an <see cref="INeuronLayer"/>: the counts since the last clear and the last output's bits.
/// </summary>
internal sealed class SpikeCounter : IDisposable
{
    private SpikeTensor? _last;

    public bool CountSpikes { get; set; }

    public bool KeepLastSpikes { get; set; }

    public long SpikeCount { get; private set; }

    public long NeuronSteps { get; private set; }

    public double FiringRate => NeuronSteps == 0 ? 0 : (double)SpikeCount / NeuronSteps;

    public SpikeTensor? LastSpikes => _last;

    public void Clear() => (SpikeCount, NeuronSteps) = (0, 0);

    /// <summary>Counts <paramref name="spikes"/> spikes over <paramref name="neuronSteps"/> neuron-steps, when counting is on.</summary>
    public void Add(long spikes, long neuronSteps)
    {
        if (!CountSpikes) return;
        SpikeCount += spikes;
        NeuronSteps += neuronSteps;
    }

    /// <summary>Counts a spiking output and keeps a copy of its bits when asked.</summary>
    public void Add(SpikeTensor output)
    {
        if (CountSpikes) Add(output.PopCount(), output.Shape.ElementCount);
        if (!KeepLastSpikes) return;
        _last?.Dispose();
        _last = output.Clone();
    }

    public void Dispose()
    {
        _last?.Dispose();
        _last = null;
    }
}
