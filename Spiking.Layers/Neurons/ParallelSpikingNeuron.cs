using System;
using System.Globalization;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// SpikingJelly's <c>PSN</c>, the parallel spiking neuron (Fang et al. 2023), over <c>[T, …]</c>: with <c>X</c> the input
/// viewed as <c>[T, N]</c>, <c>H = W·X + b</c> and <c>spike = heaviside(H)</c>, all T steps at once
/// (<see cref="Functional.ParallelSpikingNeuron(Variable, Variable, Variable, Surrogate)"/>). The learnable
/// <c>weight</c> <c>[T, T]</c> starts as SpikingJelly's <c>kaiming_uniform_(a=√5)</c>, uniform in <c>±1/√T</c>, drawn from
/// <see cref="ModelSeed"/>; the learnable <c>bias</c> <c>[T, 1]</c> starts at −1 (so −b acts as a threshold of 1).
/// </summary>
public sealed class ParallelSpikingNeuron : NeuronLayer
{

    /// <summary>A PSN for inputs of <paramref name="steps"/> time steps.</summary>
    /// <param name="steps">T, the number of time steps (SpikingJelly's <c>T</c>).</param>
    /// <param name="surrogate">The surrogate gradient; SpikingJelly's <see cref="ATan"/> when null.</param>
    /// <param name="generator">Where the initial weight is drawn from; <see cref="ModelSeed.Shared"/> when null.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is less than 1.</exception>
    public ParallelSpikingNeuron(int steps, Surrogate? surrogate = null, PhiloxGenerator? generator = null)
    {
        Steps = ParallelNeuronSettings.Steps(steps, "PSN");
        Surrogate = surrogate ?? new ATan();
        Weight = RegisterParameter("weight", Tensor.Empty(steps, steps));
        Initialization.FanInUniform(Weight.Value, steps, generator ?? ModelSeed.Shared);
        Bias = RegisterParameter("bias", Tensor.Full(new Shape(steps, 1), -1f));
    }

    /// <summary>T, the number of time steps the layer takes.</summary>
    public int Steps { get; }

    /// <summary>The surrogate gradient of the spike function.</summary>
    public Surrogate Surrogate { get; }

    /// <summary>The learnable <c>W</c>, <c>[T, T]</c>.</summary>
    public Parameter Weight { get; }

    /// <summary>The learnable <c>b</c>, <c>[T, 1]</c>.</summary>
    public Parameter Bias { get; }

    /// <inheritdoc/>
    public override string OutputName => "spike";

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not a dense <c>[T, …]</c> with the layer's T.</exception>
    public override Variable Forward(Variable input)
    {
        ParallelNeuronSettings.CheckSteps(input, Steps, "PSN");
        var output = Functional.ParallelSpikingNeuron(input, Weight, Bias, Surrogate);
        Count(output.Spikes!);
        return output;
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not a dense <c>[T, …]</c> with the layer's T.</exception>
    public override Variable Forward(Variable input, out NeuronTraces traces)
    {
        ParallelNeuronSettings.CheckSteps(input, Steps, "PSN");
        return Functional.ParallelSpikingNeuron(input, Weight, Bias, Surrogate, out traces);
    }

    /// <summary>The layer of SpikingJelly's <c>PSN(T, surrogate_function=ATan())</c> built with <paramref name="settings"/> (<c>T</c>, and the surrogate as <c>surrogate</c> or <c>surrogate_function</c>).</summary>
    /// <exception cref="ArgumentException"><c>T</c> is missing or not a whole number, or the surrogate is unknown.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><c>T</c> is less than 1.</exception>
    public static ParallelSpikingNeuron FromSpikingJelly(NeuronSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        int steps = ParallelNeuronSettings.Required(settings, "T", "PSN(T, ...) has no default for the number of time steps");
        return new ParallelSpikingNeuron(steps, settings.Surrogate("ATan"));
    }

    /// <summary>Formats the settings with SpikingJelly's names.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"PSN(T={Steps}, surrogate={Surrogate})");

}

/// <summary>The checks the parallel spiking neuron layers share: their settings and the input's number of time steps.</summary>
internal static class ParallelNeuronSettings
{
    /// <summary>Returns <paramref name="steps"/>, or throws unless it is at least 1.</summary>
    public static int Steps(int steps, string node)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, $"{node}: T, the number of time steps, must be at least 1; got {steps}.");
        return steps;
    }

    /// <summary>The whole number <paramref name="key"/>, which has no default.</summary>
    public static int Required(NeuronSettings settings, string key, string why)
    {
        if (!settings.Has(key)) throw new ArgumentException($"{settings.Node} needs '{key}': {why}.", key);
        return settings.WholeNumber(key, 0);
    }

    /// <summary>Throws unless <paramref name="input"/> is a dense <c>[T, …]</c> with <paramref name="steps"/> steps, naming both.</summary>
    public static void CheckSteps(Variable input, int steps, string node)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Shape.Rank >= 1 && input.Shape[0] != steps)
        {
            throw new ArgumentException(
                $"{node} was built for T = {steps} time steps, but the input has T = {input.Shape[0]} (shape {input.Shape}); its weight is [T, T].", nameof(input));
        }
    }
}
