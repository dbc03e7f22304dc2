using System;
using System.Collections.Generic;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors.Backends;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// SpikingJelly's <c>IFNode</c>, the integrate-and-fire neuron: <c>h_t = v_{t−1} + x_t</c>, spike when
/// <c>h_t ≥ v_threshold</c>, then the reset of <see cref="ThresholdNeuron"/>.
/// </summary>
public sealed record IFNeuron : ThresholdNeuron
{
    /// <inheritdoc/>
    public override string Name => "IF";

    /// <inheritdoc/>
    public override IReadOnlyList<string> StateNames => LeakyIntegrateNames.State;

    /// <inheritdoc/>
    public override IReadOnlyList<string> SavedNames => LeakyIntegrateNames.Saved;

    /// <inheritdoc/>
    protected internal override void Dispatch(INeuronDynamicsRunner runner, ReadOnlySpan<float> parameters) =>
        DispatchByReset(runner, new LeakyIntegrateFactory<IntegrateCharge>(1f, ResetPotential, VThreshold, leaky: false, decayInput: false, learnK: false));

    /// <inheritdoc/>
    protected internal override NeuronKernelSpec? DeviceKernel(ReadOnlySpan<float> parameters) => LeakyIntegrateDevice.Spec(this, ChargeRule.Integrate, 1f);

    /// <summary>The model of SpikingJelly's <c>IFNode</c> built with <paramref name="settings"/> (<c>v_threshold</c>, <c>v_reset</c>, <c>detach_reset</c>, <c>surrogate</c>).</summary>
    /// <exception cref="ArgumentException">A setting has the wrong type or the surrogate is unknown.</exception>
    public static IFNeuron FromSpikingJelly(NeuronSettings settings) => WithBaseNodeSettings(new IFNeuron(), settings);

    /// <summary>Formats the settings with SpikingJelly's names.</summary>
    public override string ToString() => $"IF({ResetSettings()})";
}

/// <summary>The state and saved names of the IF/LIF family.</summary>
internal static class LeakyIntegrateNames
{
    public static readonly IReadOnlyList<string> State = ["v"];

    public static readonly IReadOnlyList<string> Saved = ["h"];
}
