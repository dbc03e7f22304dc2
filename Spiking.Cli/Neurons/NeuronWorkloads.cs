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
        new("PSN", () => new ParallelSpikingNeuron(8), ComposedPsn),
        new("MaskedPSN", () => new MaskedParallelSpikingNeuron(2, 8, 0.5f), ComposedMaskedPsn),
        new("SlidingPSN", () => new SlidingParallelSpikingNeuron(3), ComposedSlidingPsn),
        new("FewSpike", () => new FewSpikeNeuron(Halves(8), Halves(8), Halves(8)), ComposedFewSpike),
        new("QIF", () => new SpikingNeuron(new QifNeuron { Surrogate = new ATan() }), (layer, x) => ComposedNeurons.Qif(x, (QifNeuron)((SpikingNeuron)layer).Model)),
        new("EIF", () => new SpikingNeuron(new EifNeuron { Surrogate = new ATan() }), (layer, x) => ComposedNeurons.Eif(x, (EifNeuron)((SpikingNeuron)layer).Model)),
        new("Izhikevich", () => new SpikingNeuron(new IzhikevichNeuron { A = 0.3, B = 0.2, Surrogate = new ATan() }),
            (layer, x) => ComposedNeurons.Izhikevich(x, (IzhikevichNeuron)((SpikingNeuron)layer).Model)),
        new("ALIF", () => new SpikingNeuron(new AdaptiveLifNeuron { Surrogate = new ATan() }), (layer, x) => ComposedNeurons.AdaptiveLif(x, (AdaptiveLifNeuron)((SpikingNeuron)layer).Model)),
        new("CubaLIF", () => new SpikingNeuron(new CubaLifNeuron { Surrogate = new ATan() }), (layer, x) => ComposedNeurons.CubaLif(x, (CubaLifNeuron)((SpikingNeuron)layer).Model)),
        new("IIRLIF", () => new IirLeakyIntegrateAndFire(),
            (layer, x) => ComposedNeurons.IirLif(x, (IirLifNeuron)((SpikingNeuron)layer).Model, ((SpikingNeuron)layer).NeuronParameters[0].Variable, ((SpikingNeuron)layer).NeuronParameters[1].Variable)),
    ];

    private static Variable ComposedLeakyIntegrate(Module layer, Variable x)
    {
        var neuron = (SpikingNeuron)layer;
        return ComposedNeurons.LeakyIntegrate(x, (ThresholdNeuron)neuron.Model, neuron.NeuronParameters.Count > 0 ? neuron.NeuronParameters[0].Variable : null);
    }

    private static Variable ComposedPsn(Module layer, Variable x)
    {
        var psn = (ParallelSpikingNeuron)layer;
        return ComposedNeurons.Parallel(x, psn.Weight, psn.Bias, psn.Surrogate);
    }

    private static Variable ComposedMaskedPsn(Module layer, Variable x)
    {
        var psn = (MaskedParallelSpikingNeuron)layer;
        return ComposedNeurons.Parallel(x, ComposedNeurons.MaskedMatrix(psn.Weight, psn.Order, psn.Lambda), psn.Bias, psn.Surrogate);
    }

    private static Variable ComposedSlidingPsn(Module layer, Variable x)
    {
        var psn = (SlidingParallelSpikingNeuron)layer;
        return ComposedNeurons.Parallel(x, ComposedNeurons.SlidingMatrix(psn.Weight, x.Shape[0]), psn.Bias, psn.Surrogate);
    }

    private static Variable ComposedFewSpike(Module layer, Variable x)
    {
        var few = (FewSpikeNeuron)layer;
        return ComposedNeurons.FewSpike(x, few.Theta.AsReadOnlySpan(), few.H.AsReadOnlySpan(), few.D.AsReadOnlySpan(), few.Surrogate);
    }

    /// <summary>The few-spikes table of the benchmark: 1, 1/2, 1/4, … (binary coding of [0, 2)).</summary>
    private static float[] Halves(int k)
    {
        var values = new float[k];
        for (int i = 0; i < k; i++) values[i] = MathF.ScaleB(1f, -i);
        return values;
    }
}
