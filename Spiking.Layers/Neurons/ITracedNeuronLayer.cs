using Spiking.Autograd;
using Spiking.Autograd.Neurons;

namespace Spiking.Layers;

/// <summary>A neuron layer that can record what it computed at every step (its state, saved values, internal spikes) beside its output.</summary>
public interface ITracedNeuronLayer
{
    /// <summary>The output's name in SpikingJelly's traces: <c>spike</c> for spikes and spike counts, <c>y</c> for an analog output.</summary>
    string OutputName { get; }

    /// <summary>The forward of <paramref name="input"/> <c>[T, B, …]</c> with its <paramref name="traces"/> (owned by the caller).</summary>
    Variable Forward(Variable input, out NeuronTraces traces);
}
