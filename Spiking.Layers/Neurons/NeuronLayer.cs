using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// The base of the neuron layers (<see cref="SpikingNeuron"/> over any neuron model, the parallel spiking neurons,
/// the few-spikes neuron): the spike bookkeeping the firing-rate and energy reports read, kept once here. A layer
/// calls <see cref="Count(SpikeTensor)"/> or <see cref="Count(long, long)"/> with what its forward emitted.
/// </summary>
public abstract class NeuronLayer : Module, INeuronLayer, ITracedNeuronLayer
{
    private SpikeTensor? _last;

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
    public abstract string OutputName { get; }

    /// <inheritdoc/>
    public void ClearCounts() => (SpikeCount, NeuronSteps) = (0, 0);

    /// <inheritdoc/>
    public abstract Variable Forward(Variable input, out NeuronTraces traces);

    /// <summary>Counts <paramref name="spikes"/> spikes over <paramref name="neuronSteps"/> neuron-steps, when counting is on.</summary>
    protected void Count(long spikes, long neuronSteps)
    {
        if (!CountSpikes) return;
        SpikeCount += spikes;
        NeuronSteps += neuronSteps;
    }

    /// <summary>Counts a spiking output, and keeps a copy of its bits when asked.</summary>
    protected void Count(SpikeTensor output)
    {
        System.ArgumentNullException.ThrowIfNull(output);
        if (CountSpikes) Count(output.PopCount(), output.Shape.ElementCount);
        if (!KeepLastSpikes) return;
        _last?.Dispose();
        _last = output.Clone();
    }

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
