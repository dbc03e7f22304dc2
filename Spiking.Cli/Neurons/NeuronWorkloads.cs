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
        new("KLIF", () => new SpikingNeuron(new KlifNeuron { ScaleReset = true, Surrogate = new ATan() }),
            (layer, x) => ComposedNeurons.Klif(x, (KlifNeuron)((SpikingNeuron)layer).Model, ((SpikingNeuron)layer).NeuronParameters[0].Variable)),
        new("LIAF", () => new SpikingNeuron(new LiafNeuron { Act = LiafActivation.Tanh, ThresholdRelated = true, Surrogate = new ATan() }),
            (layer, x) => ComposedNeurons.Liaf(x, (LiafNeuron)((SpikingNeuron)layer).Model)),
        new("ILIF", () => new SpikingNeuron(new IlifNeuron()), (layer, x) => ComposedNeurons.Ilif(x, (IlifNeuron)((SpikingNeuron)layer).Model)),
    ];

    private static Variable ComposedLeakyIntegrate(Module layer, Variable x)
    {
        var neuron = (SpikingNeuron)layer;
        return ComposedNeurons.LeakyIntegrate(x, (ThresholdNeuron)neuron.Model, neuron.NeuronParameters.Count > 0 ? neuron.NeuronParameters[0].Variable : null);
    }
}
