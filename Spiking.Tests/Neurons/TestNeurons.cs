using System;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;

namespace Spiking.Tests.Neurons;

/// <summary>The three models of SpikingJelly's LIF family the kernel tests sweep.</summary>
public enum LifKind
{
    IntegrateAndFire,
    LeakyIntegrateAndFire,
    ParametricLeakyIntegrateAndFire,
}

/// <summary>IF, LIF and parametric LIF models with SpikingJelly's defaults (Sigmoid(alpha=4) surrogate), built from positional settings.</summary>
public static class TestNeurons
{
    public static IFNeuron IF(float vThreshold = 1f, float? vReset = 0f, bool detachReset = false, Surrogate? surrogate = null) =>
        new() { VThreshold = vThreshold, VReset = vReset, DetachReset = detachReset, Surrogate = surrogate ?? new Sigmoid() };

    public static LifNeuron Lif(double tau = 2.0, bool decayInput = true, float vThreshold = 1f, float? vReset = 0f, bool detachReset = false, Surrogate? surrogate = null) =>
        new() { Tau = tau, DecayInput = decayInput, VThreshold = vThreshold, VReset = vReset, DetachReset = detachReset, Surrogate = surrogate ?? new Sigmoid() };

    public static ParametricLifNeuron ParametricLif(double initTau = 2.0, bool decayInput = true, float vThreshold = 1f, float? vReset = 0f, bool detachReset = false,
        Surrogate? surrogate = null) =>
        new() { InitTau = initTau, DecayInput = decayInput, VThreshold = vThreshold, VReset = vReset, DetachReset = detachReset, Surrogate = surrogate ?? new Sigmoid() };

    public static ThresholdNeuron Of(LifKind kind, double tau, bool decayInput, float vThreshold, float? vReset, bool detachReset, Surrogate surrogate) => kind switch
    {
        LifKind.IntegrateAndFire => IF(vThreshold, vReset, detachReset, surrogate),
        LifKind.LeakyIntegrateAndFire => Lif(tau, decayInput, vThreshold, vReset, detachReset, surrogate),
        _ => ParametricLif(2.0, decayInput, vThreshold, vReset, detachReset, surrogate),
    };

    public static LifKind KindOf(ThresholdNeuron model) => model switch
    {
        IFNeuron => LifKind.IntegrateAndFire,
        LifNeuron => LifKind.LeakyIntegrateAndFire,
        ParametricLifNeuron => LifKind.ParametricLeakyIntegrateAndFire,
        _ => throw new ArgumentException($"not of the LIF family: {model}", nameof(model)),
    };

    public static bool DecayInput(ThresholdNeuron model) => model switch
    {
        LifNeuron lif => lif.DecayInput,
        ParametricLifNeuron plif => plif.DecayInput,
        _ => false,
    };

    public static double Tau(ThresholdNeuron model) => model is LifNeuron lif ? lif.Tau : 2.0;
}
