using System;

namespace Spiking.Autograd.Neurons;

/// <summary>The constants one neuron op runs with, resolved from <see cref="NeuronOptions"/> and the current <c>k</c>.</summary>
internal readonly struct NeuronParameters
{
    public NeuronParameters(NeuronOptions options, float k)
    {
        Model = options.Model;
        DecayInput = options.DecayInput;
        Hard = options.HardReset;
        Detach = options.DetachReset;
        Threshold = options.VThreshold;
        VReset = options.VReset ?? 0f;
        K = Model == NeuronModel.IntegrateAndFire ? 1f : k;
        bool leaky = Model != NeuronModel.IntegrateAndFire;
        DhDx = leaky && DecayInput ? K : 1f;
        DhDv = leaky ? 1f - K : 1f;
        LearnK = Model == NeuronModel.ParametricLeakyIntegrateAndFire;
    }

    public NeuronModel Model { get; }

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

    /// <summary><c>k = sigmoid(w)</c> in double, rounded once.</summary>
    public static float Sigmoid(double w) => (float)(1.0 / (1.0 + Math.Exp(-w)));
}
