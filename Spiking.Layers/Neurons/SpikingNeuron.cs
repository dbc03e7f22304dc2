using System;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// A multi-step spiking neuron layer over <c>[T, B, …]</c>: all T steps run in one fused op with its own backward
/// through time, from rest at every call (SpikingJelly's multi-step nodes after <c>reset_net</c>). It counts the
/// spikes it emits so a monitor can report its firing rate, and keeps the last output's bits when asked.
/// </summary>
public abstract class SpikingNeuron : Module
{
    private long _spikes, _neuronSteps;
    private SpikeTensor? _lastSpikes;

    /// <summary>A layer with the given dynamics.</summary>
    protected SpikingNeuron(NeuronOptions options)
    {
        Options = options ?? throw new ArgumentNullException(nameof(options));
    }

    /// <summary>The neuron model, thresholds, reset and surrogate.</summary>
    public NeuronOptions Options { get; }

    /// <summary>Whether forward passes count emitted spikes (for <see cref="FiringRate"/>); off by default.</summary>
    public bool CountSpikes { get; set; }

    /// <summary>Whether the last output's bits are kept (for a spike raster); off by default.</summary>
    public bool KeepLastSpikes { get; set; }

    /// <summary>Spikes counted since the last <see cref="ClearCounts"/>.</summary>
    public long SpikeCount => _spikes;

    /// <summary>Neuron-steps counted since the last <see cref="ClearCounts"/>.</summary>
    public long NeuronSteps => _neuronSteps;

    /// <summary>The counted firing rate: spikes per neuron per step, 0 before anything was counted.</summary>
    public double FiringRate => _neuronSteps == 0 ? 0 : (double)_spikes / _neuronSteps;

    /// <summary>The bits of the last output when <see cref="KeepLastSpikes"/> is on (owned by the layer).</summary>
    public SpikeTensor? LastSpikes => _lastSpikes;

    /// <summary>Starts counting from zero.</summary>
    public void ClearCounts() => (_spikes, _neuronSteps) = (0, 0);

    /// <summary>The learnable scalar of a parametric neuron, null otherwise.</summary>
    protected virtual Variable? LearnableW => null;

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input has fewer than two axes or holds spikes.</exception>
    public override Variable Forward(Variable input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.IsSpikes)
        {
            throw new ArgumentException($"{GetType().Name} needs a dense input current of [T, B, …]; it got spikes of shape {input.Shape}.", nameof(input));
        }
        var spikes = Functional.Neuron(input, Options, LearnableW);
        if (CountSpikes)
        {
            _spikes += spikes.Spikes!.PopCount();
            _neuronSteps += spikes.Shape.ElementCount;
        }
        if (KeepLastSpikes)
        {
            _lastSpikes?.Dispose();
            _lastSpikes = spikes.Spikes!.Clone();
        }
        return spikes;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) _lastSpikes?.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>
/// The leaky integrate-and-fire neuron (SpikingJelly's <c>LIFNode</c>): <c>h = v + (x − (v − v_reset))/τ</c> with
/// <c>decay_input</c>, or <c>h = v − (v − v_reset)/τ + x</c> without; spike when <c>h ≥ v_threshold</c>; hard reset
/// to <c>v_reset</c> or soft reset by subtraction when <c>vReset</c> is null.
/// </summary>
public sealed class LeakyIntegrateAndFire : SpikingNeuron
{
    /// <summary>A LIF layer; the defaults are SpikingJelly's except the surrogate, which is ATan(2) when null.</summary>
    public LeakyIntegrateAndFire(double tau = 2.0, bool decayInput = true, float vThreshold = 1f, float? vReset = 0f,
        bool detachReset = false, Surrogate? surrogate = null)
        : base(NeuronOptions.Lif(tau, decayInput, vThreshold, vReset, detachReset, surrogate ?? new ATan()))
    {
    }
}

/// <summary>The integrate-and-fire neuron (SpikingJelly's <c>IFNode</c>): <c>h = v + x</c>.</summary>
public sealed class IntegrateAndFire : SpikingNeuron
{
    /// <summary>An IF layer; the surrogate is ATan(2) when null.</summary>
    public IntegrateAndFire(float vThreshold = 1f, float? vReset = 0f, bool detachReset = false, Surrogate? surrogate = null)
        : base(NeuronOptions.IF(vThreshold, vReset, detachReset, surrogate ?? new ATan()))
    {
    }
}

/// <summary>
/// The parametric LIF neuron (SpikingJelly's <c>ParametricLIFNode</c>): LIF with <c>1/τ = sigmoid(w)</c> for one
/// learnable scalar <c>w</c> shared by the layer, saved as <c>w</c> in the state dict.
/// </summary>
public sealed class ParametricLeakyIntegrateAndFire : SpikingNeuron
{
    /// <summary>A PLIF layer starting at <paramref name="initTau"/>; the surrogate is ATan(2) when null.</summary>
    public ParametricLeakyIntegrateAndFire(double initTau = 2.0, bool decayInput = true, float vThreshold = 1f, float? vReset = 0f,
        bool detachReset = false, Surrogate? surrogate = null)
        : base(NeuronOptions.ParametricLif(initTau, decayInput, vThreshold, vReset, detachReset, surrogate ?? new ATan()))
    {
        W = RegisterParameter("w", Tensor.FromArray([(float)Options.InitialW]).Reshape());
    }

    /// <summary>The learnable scalar with <c>1/τ = sigmoid(w)</c>.</summary>
    public Parameter W { get; }

    /// <inheritdoc/>
    protected override Variable? LearnableW => W.Variable;
}
