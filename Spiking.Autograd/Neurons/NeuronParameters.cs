using System;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// The constants the first IF/LIF/PLIF kernel (<see cref="LifKernelV1"/>) runs with, resolved from an IF, LIF or
/// parametric LIF model and the current <c>k</c>.
/// </summary>
internal readonly struct NeuronParameters
{
    private NeuronParameters(ThresholdNeuron model, bool leaky, bool decayInput, bool learnK, float k)
    {
        Leaky = leaky;
        DecayInput = decayInput;
        Hard = model.HardReset;
        Detach = model.DetachReset;
        Threshold = model.VThreshold;
        VReset = model.ResetPotential;
        K = leaky ? k : 1f;
        DhDx = leaky && decayInput ? K : 1f;
        DhDv = leaky ? 1f - K : 1f;
        LearnK = learnK;
    }

    /// <summary>The constants of <paramref name="model"/> (IF, LIF or parametric LIF) at <paramref name="k"/> (<c>sigmoid(w)</c> for the parametric LIF; ignored otherwise).</summary>
    /// <exception cref="ArgumentException">The model is not of the IF/LIF family.</exception>
    public static NeuronParameters Of(ThresholdNeuron model, float k) => model switch
    {
        IFNeuron => new(model, false, false, false, 1f),
        LifNeuron lif => new(model, true, lif.DecayInput, false, (float)(1.0 / lif.Tau)),
        ParametricLifNeuron plif => new(model, true, plif.DecayInput, true, k),
        _ => throw new ArgumentException($"The first kernel runs IF, LIF and parametric LIF only; got {model.Name}.", nameof(model)),
    };

    /// <summary>False for IF.</summary>
    public bool Leaky { get; }

    public bool DecayInput { get; }

    public bool Hard { get; }

    public bool Detach { get; }

    public float Threshold { get; }

    /// <summary>The reset potential, 0 for soft reset; also the initial membrane potential.</summary>
    public float VReset { get; }

    /// <summary><c>1/tau</c> or <c>sigmoid(w)</c>; 1 (unused) for IF.</summary>
    public float K { get; }

    /// <summary><c>∂h/∂x</c>: k with <c>decay_input</c>, else 1.</summary>
    public float DhDx { get; }

    /// <summary><c>∂h/∂v</c> through the charge: 1 − k for LIF, 1 for IF.</summary>
    public float DhDv { get; }

    /// <summary>True when the op also returns <c>dL/dk</c> (parametric LIF).</summary>
    public bool LearnK { get; }

    /// <summary><c>∂h/∂k</c> at one element: <c>x − (v − vr)</c> with <c>decay_input</c>, else <c>−(v − vr)</c>.</summary>
    public float DhDk(float x, float vPrevious) => DecayInput ? x - (vPrevious - VReset) : -(vPrevious - VReset);
}
