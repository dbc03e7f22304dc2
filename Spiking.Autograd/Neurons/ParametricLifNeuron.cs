using System;
using System.Collections.Generic;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// SpikingJelly's <c>ParametricLIFNode</c>: the LIF equations with <c>1/τ</c> replaced by <c>k = sigmoid(w)</c>, where
/// <c>w</c> is a learnable scalar shared by the layer (initially <c>−ln(init_tau − 1)</c>), which receives
/// <c>dL/dw = Σ dL/dh · ∂h/∂k · k(1 − k)</c>.
/// </summary>
public sealed record ParametricLifNeuron : ThresholdNeuron
{
    private readonly double _initTau = 2.0;

    /// <summary>The initial time constant (SpikingJelly's <c>init_tau</c>, default 2): <c>w</c> starts at <see cref="InitialW"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a finite number &gt; 1.</exception>
    public double InitTau
    {
        get => _initTau;
        init => _initTau = GreaterThan(value, 1, "init_tau");
    }

    /// <summary>Whether the input is scaled by k (SpikingJelly's <c>decay_input</c>, default true).</summary>
    public bool DecayInput { get; init; } = true;

    /// <summary>The initial learnable <c>w = −ln(init_tau − 1)</c>, so that <c>sigmoid(w) = 1/init_tau</c>.</summary>
    public double InitialW => -Math.Log(InitTau - 1.0);

    /// <inheritdoc/>
    public override string Name => "ParametricLIF";

    /// <inheritdoc/>
    public override IReadOnlyList<string> StateNames => LeakyIntegrateNames.State;

    /// <inheritdoc/>
    public override IReadOnlyList<string> SavedNames => LeakyIntegrateNames.Saved;

    /// <inheritdoc/>
    public override IReadOnlyList<NeuronParameter> Parameters => [new("w", (float)InitialW)];

    /// <inheritdoc/>
    protected internal override void Dispatch(INeuronDynamicsRunner runner, ReadOnlySpan<float> parameters)
    {
        float k = (float)Sigmoid(parameters[0]);
        if (DecayInput) DispatchByReset(runner, new LeakyIntegrateFactory<DecayInputCharge>(k, ResetPotential, VThreshold, leaky: true, decayInput: true, learnK: true));
        else DispatchByReset(runner, new LeakyIntegrateFactory<LeakCharge>(k, ResetPotential, VThreshold, leaky: true, decayInput: false, learnK: true));
    }

    /// <summary><c>dL/dw = (Σ dL/dh · ∂h/∂k) · k(1 − k)</c>, with k in double.</summary>
    protected internal override void ParameterGradients(ReadOnlySpan<double> sums, ReadOnlySpan<float> parameters, Span<float> gradients)
    {
        double k = Sigmoid(parameters[0]);
        gradients[0] = (float)(sums[0] * k * (1 - k));
    }

    /// <summary>The model of SpikingJelly's <c>ParametricLIFNode</c> built with <paramref name="settings"/> (<c>init_tau</c>, <c>decay_input</c> and the <c>BaseNode</c> arguments).</summary>
    /// <exception cref="ArgumentException">A setting has the wrong type or the surrogate is unknown.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><c>init_tau</c> is not &gt; 1.</exception>
    public static ParametricLifNeuron FromSpikingJelly(NeuronSettings settings) =>
        WithBaseNodeSettings(new ParametricLifNeuron { InitTau = settings.Number("init_tau", 2.0), DecayInput = settings.Flag("decay_input", true) }, settings);

    /// <summary>Formats the settings with SpikingJelly's names.</summary>
    public override string ToString() => $"ParametricLIF(init_tau={Format(InitTau)}, decay_input={DecayInput}, {ResetSettings()})";

    private static double Sigmoid(double w) => 1.0 / (1.0 + Math.Exp(-w));
}
