using System;
using System.Collections.Generic;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Layers;

namespace Spiking.Cli.Neurons;

/// <summary>
/// One neuron as <c>spiking bench neurons</c> times it: the fused layer, and the same dynamics composed from ops
/// (reading the layer's settings and learnable parameters, so both compute the same function).
/// </summary>
/// <param name="Name">The row name.</param>
/// <param name="Layer">Builds the fused layer.</param>
/// <param name="Composed">The op composition of that layer's dynamics over an input <c>[T, …]</c>.</param>
internal sealed record NeuronWorkload(string Name, Func<Module> Layer, Func<Module, Variable, Variable> Composed);

/// <summary>Every neuron the engine has, with its settings for benchmarks and cross-checks.</summary>
internal static class NeuronWorkloads
{
    public static IReadOnlyList<NeuronWorkload> All { get; } =
    [
        new("IF", () => new SpikingNeuron(new IFNeuron { Surrogate = new ATan() }), ComposedLeakyIntegrate),
        new("LIF", () => new SpikingNeuron(new LifNeuron { Surrogate = new ATan() }), ComposedLeakyIntegrate),
        new("ParametricLIF", () => new SpikingNeuron(new ParametricLifNeuron { Surrogate = new ATan() }), ComposedLeakyIntegrate),
        new("QIF", () => new SpikingNeuron(new QifNeuron { Surrogate = new ATan() }), (layer, x) => ComposedNeurons.Qif(x, (QifNeuron)((SpikingNeuron)layer).Model)),
        new("EIF", () => new SpikingNeuron(new EifNeuron { Surrogate = new ATan() }), (layer, x) => ComposedNeurons.Eif(x, (EifNeuron)((SpikingNeuron)layer).Model)),
        new("Izhikevich", () => new SpikingNeuron(new IzhikevichNeuron { A = 0.3, B = 0.2, Surrogate = new ATan() }),
            (layer, x) => ComposedNeurons.Izhikevich(x, (IzhikevichNeuron)((SpikingNeuron)layer).Model)),
        new("ALIF", () => new SpikingNeuron(new AdaptiveLifNeuron { Surrogate = new ATan() }), (layer, x) => ComposedNeurons.AdaptiveLif(x, (AdaptiveLifNeuron)((SpikingNeuron)layer).Model)),
        new("CubaLIF", () => new SpikingNeuron(new CubaLifNeuron { Surrogate = new ATan() }), (layer, x) => ComposedNeurons.CubaLif(x, (CubaLifNeuron)((SpikingNeuron)layer).Model)),
    ];

    private static Variable ComposedLeakyIntegrate(Module layer, Variable x)
    {
        var neuron = (SpikingNeuron)layer;
        return ComposedNeurons.LeakyIntegrate(x, (ThresholdNeuron)neuron.Model, neuron.NeuronParameters.Count > 0 ? neuron.NeuronParameters[0].Variable : null);
    }
}
