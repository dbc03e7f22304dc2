using System;
using System.Collections.Generic;
using Spiking.Tensors.Backends;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// SpikingJelly's <c>LIFNode</c>, the leaky integrate-and-fire neuron: <c>h_t = v_{t−1} + (x_t − (v_{t−1} − v_r))/τ</c>
/// with <see cref="DecayInput"/>, else <c>h_t = v_{t−1} − (v_{t−1} − v_r)/τ + x_t</c> (<c>v_r</c> = v_reset, 0 for the
/// soft reset); spike at <c>h_t ≥ v_threshold</c>, then the reset of <see cref="ThresholdNeuron"/>.
/// </summary>
public sealed record LifNeuron : ThresholdNeuron
{
    private readonly double _tau = 2.0;

    /// <summary>The membrane time constant (SpikingJelly's <c>tau</c>, default 2).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a finite number &gt; 1.</exception>
    public double Tau
    {
        get => _tau;
        init => _tau = GreaterThan(value, 1, "tau");
    }

    /// <summary>Whether the input is divided by tau (SpikingJelly's <c>decay_input</c>, default true).</summary>
    public bool DecayInput { get; init; } = true;

    /// <inheritdoc/>
    public override string Name => "LIF";

    /// <inheritdoc/>
    public override IReadOnlyList<string> StateNames => LeakyIntegrateNames.State;

    /// <inheritdoc/>
    public override IReadOnlyList<string> SavedNames => LeakyIntegrateNames.Saved;

    /// <summary><c>1/τ</c>, computed in double and rounded once.</summary>
    private float K => (float)(1.0 / Tau);

    /// <inheritdoc/>
    protected internal override void Dispatch(INeuronDynamicsRunner runner, ReadOnlySpan<float> parameters)
    {
        if (DecayInput) DispatchByReset(runner, new LeakyIntegrateFactory<DecayInputCharge>(K, ResetPotential, VThreshold, leaky: true, decayInput: true, learnK: false));
        else DispatchByReset(runner, new LeakyIntegrateFactory<LeakCharge>(K, ResetPotential, VThreshold, leaky: true, decayInput: false, learnK: false));
    }

    /// <inheritdoc/>
    protected internal override NeuronKernelSpec? DeviceKernel(ReadOnlySpan<float> parameters) =>
        LeakyIntegrateDevice.Spec(this, DecayInput ? ChargeRule.DecayInputLeak : ChargeRule.Leak, K);

    /// <summary>The model of SpikingJelly's <c>LIFNode</c> built with <paramref name="settings"/> (<c>tau</c>, <c>decay_input</c> and the <c>BaseNode</c> arguments).</summary>
    /// <exception cref="ArgumentException">A setting has the wrong type or the surrogate is unknown.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><c>tau</c> is not &gt; 1.</exception>
    public static LifNeuron FromSpikingJelly(NeuronSettings settings) =>
        WithBaseNodeSettings(new LifNeuron { Tau = settings.Number("tau", 2.0), DecayInput = settings.Flag("decay_input", true) }, settings);

    /// <summary>Formats the settings with SpikingJelly's names.</summary>
    public override string ToString() => $"LIF(tau={Format(Tau)}, decay_input={DecayInput}, {ResetSettings()})";
}
