using System;
using System.Collections.Generic;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// A multi-step layer of spiking neurons of any <see cref="NeuronModel"/> over <c>[T, B, …]</c>: all T steps run in
/// one fused op with its own backward through time, from rest at every call (SpikingJelly's multi-step nodes after
/// <c>reset_net</c>). The model's learnable scalars are the layer's parameters, under the model's names (<c>w</c>,
/// <c>k</c>). It counts the spikes it emits so a monitor can report its firing rate, and keeps the last output's bits
/// when asked.
/// </summary>
public class SpikingNeuron : NeuronLayer
{
    private readonly Parameter[] _parameters;
    private readonly Variable[] _variables;
    private bool _carryState;

    /// <summary>A layer of <paramref name="model"/> neurons; its learnable scalars start at the model's initial values.</summary>
    public SpikingNeuron(NeuronModel model)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        var declared = model.Parameters;
        _parameters = new Parameter[declared.Count];
        _variables = new Variable[declared.Count];
        for (int i = 0; i < declared.Count; i++)
        {
            _parameters[i] = RegisterParameter(declared[i].Name, Tensor.Scalar(declared[i].InitialValue));
            _variables[i] = _parameters[i].Variable;
        }
    }

    /// <summary>The neuron model: its dynamics, thresholds, reset and surrogate.</summary>
    public NeuronModel Model { get; }

    /// <summary>The model's learnable scalars, in the model's order.</summary>
    public IReadOnlyList<Parameter> NeuronParameters => _parameters;

    /// <summary>
    /// Whether <see cref="Forward(Variable)"/> continues from the state the previous call left (<see cref="State"/>)
    /// instead of from rest, as SpikingJelly's stateful nodes do between <c>reset_net</c> calls: a sequence then runs
    /// in pieces of any length, one time step at a time for online training (SLTT), or in segments (truncated or
    /// checkpointed backpropagation through time). Off by default; turning it off or calling
    /// <see cref="Module.ResetState"/> drops the state.
    /// </summary>
    public bool CarryState
    {
        get => _carryState;
        set
        {
            _carryState = value;
            if (!value) State = null;
        }
    }

    /// <summary>
    /// With <see cref="CarryState"/>, the state the next call starts from (null: rest), left by the last call. Set it
    /// to start a piece from a saved state, or to a <see cref="NeuronState.Detach"/>ed copy to cut the gradient
    /// through time there (see <see cref="DetachState"/>). The layer does not dispose the states it replaces: they
    /// are op outputs like any other, and may still be in use (a graph's input, a caller's leaf); a
    /// <see cref="DisposeScope"/> around the training step frees them.
    /// </summary>
    public NeuronState? State { get; set; }

    /// <summary>
    /// Cuts the gradient through the carried state: the next call starts from the same values as constants, so a
    /// backward stops at this point in time (truncated backpropagation through time; SLTT cuts it at every step).
    /// </summary>
    public void DetachState()
    {
        if (State is { } state) State = state.Detach();
    }

    /// <inheritdoc/>
    protected override void ResetOwnState() => State = null;

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input has fewer than two axes or holds spikes, or (with <see cref="CarryState"/>) its step shape is not the carried state's.</exception>
    public override Variable Forward(Variable input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.IsSpikes)
        {
            throw new ArgumentException($"{GetType().Name} ({Model.Name}) needs a dense input current of [T, B, …]; it got spikes of shape {input.Shape}.", nameof(input));
        }
        if (_carryState)
        {
            var continued = Forward(input, State, out var final);
            State = final;
            return continued;
        }
        if (CountSpikes && Model.HasInternalSpikes)
        {
            var analog = Functional.Neuron(input, Model, _variables, out var traces);
            using (traces) Count(CountOnes(traces["spike"]), analog.Shape.ElementCount);
            return analog;
        }
        var output = Functional.Neuron(input, Model, _variables);
        if (output.Spikes is { } bits) Count(bits);
        else if (CountSpikes) Count(SumOf(output.Dense), output.Shape.ElementCount);
        return output;
    }

    /// <summary>
    /// The forward of a sequence fed in pieces (streaming along tokens): runs from <paramref name="initial"/> (null:
    /// rest) and returns the state after the last step in <paramref name="final"/>, which the next call takes as its
    /// initial state. Fed step by step or in pieces, a sequence gives the same spikes, bit for bit, as in one call.
    /// Gradients flow through the carried state unless it is detached (<see cref="NeuronState.Detach"/>, truncated BPTT).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="input"/> holds spikes, or the state's variables are not shaped like one step of it.</exception>
    public Variable Forward(Variable input, NeuronState? initial, out NeuronState final)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.IsSpikes)
        {
            throw new ArgumentException($"{GetType().Name} ({Model.Name}) needs a dense input current of [T, B, …]; it got spikes of shape {input.Shape}.", nameof(input));
        }
        var output = Functional.Neuron(input, Model, _variables, initial, out final);
        if (output.Spikes is { } bits) Count(bits);
        else if (CountSpikes) Count(SumOf(output.Dense), output.Shape.ElementCount);
        return output;
    }

    /// <inheritdoc/>
    public override string OutputName => Model.OutputName;

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input has fewer than two axes or holds spikes.</exception>
    public override Variable Forward(Variable input, out NeuronTraces traces) => Functional.Neuron(input, Model, _variables, out traces);

    private static long SumOf(Tensor counts)
    {
        double sum = 0;
        foreach (float c in counts.AsReadOnlySpan()) sum += c;
        return (long)Math.Round(sum);
    }

    private static long CountOnes(Tensor spikes)
    {
        long n = 0;
        foreach (float s in spikes.AsReadOnlySpan())
        {
            if (s != 0f) n++;
        }
        return n;
    }

}

/// <summary>
/// The leaky integrate-and-fire layer (SpikingJelly's <c>LIFNode</c>, <see cref="LifNeuron"/>):
/// <c>h = v + (x − (v − v_reset))/τ</c> with <c>decay_input</c>, or <c>h = v − (v − v_reset)/τ + x</c> without; spike
/// when <c>h ≥ v_threshold</c>; hard reset to <c>v_reset</c> or soft reset by subtraction when <c>vReset</c> is null.
/// </summary>
public sealed class LeakyIntegrateAndFire : SpikingNeuron
{
    /// <summary>A LIF layer; the defaults are SpikingJelly's except the surrogate, which is ATan(2) when null.</summary>
    public LeakyIntegrateAndFire(double tau = 2.0, bool decayInput = true, float vThreshold = 1f, float? vReset = 0f,
        bool detachReset = false, Surrogate? surrogate = null)
        : base(new LifNeuron
        {
            Tau = tau, DecayInput = decayInput, VThreshold = vThreshold, VReset = vReset, DetachReset = detachReset, Surrogate = surrogate ?? new ATan(),
        })
    {
    }
}

/// <summary>The integrate-and-fire layer (SpikingJelly's <c>IFNode</c>, <see cref="IFNeuron"/>): <c>h = v + x</c>.</summary>
public sealed class IntegrateAndFire : SpikingNeuron
{
    /// <summary>An IF layer; the surrogate is ATan(2) when null.</summary>
    public IntegrateAndFire(float vThreshold = 1f, float? vReset = 0f, bool detachReset = false, Surrogate? surrogate = null)
        : base(new IFNeuron { VThreshold = vThreshold, VReset = vReset, DetachReset = detachReset, Surrogate = surrogate ?? new ATan() })
    {
    }
}

/// <summary>
/// The parametric LIF layer (SpikingJelly's <c>ParametricLIFNode</c>, <see cref="ParametricLifNeuron"/>): LIF with
/// <c>1/τ = sigmoid(w)</c> for one learnable scalar <c>w</c> shared by the layer, saved as <c>w</c> in the state dict.
/// </summary>
public sealed class ParametricLeakyIntegrateAndFire : SpikingNeuron
{
    /// <summary>A PLIF layer starting at <paramref name="initTau"/>; the surrogate is ATan(2) when null.</summary>
    public ParametricLeakyIntegrateAndFire(double initTau = 2.0, bool decayInput = true, float vThreshold = 1f, float? vReset = 0f,
        bool detachReset = false, Surrogate? surrogate = null)
        : base(new ParametricLifNeuron
        {
            InitTau = initTau, DecayInput = decayInput, VThreshold = vThreshold, VReset = vReset, DetachReset = detachReset, Surrogate = surrogate ?? new ATan(),
        })
    {
    }

    /// <summary>The learnable scalar with <c>1/τ = sigmoid(w)</c>.</summary>
    public Parameter W => NeuronParameters[0];
}

/// <summary>
/// The LIF layer of IIR-SNN (<see cref="IirLifNeuron"/>): <c>h = λ·v + x</c>, spike when <c>h ≥ θ</c>, soft reset by
/// default, with a learnable leak <c>λ = sigmoid(leak_w)</c> and threshold <c>θ = softplus(threshold_w)</c>, one of
/// each for the layer, saved as <c>leak_w</c> and <c>threshold_w</c> in the state dict.
/// </summary>
public sealed class IirLeakyIntegrateAndFire : SpikingNeuron
{
    /// <summary>An IIR-SNN LIF layer starting at leak <paramref name="initLeak"/> and threshold <paramref name="initThreshold"/>; the surrogate is ATan(2) when null.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="initLeak"/> is not in (0, 1), or <paramref name="initThreshold"/> not &gt; 0.</exception>
    public IirLeakyIntegrateAndFire(double initLeak = 0.5, double initThreshold = 1.0, float? vReset = null, bool detachReset = true, Surrogate? surrogate = null)
        : base(new IirLifNeuron
        {
            InitialLeak = initLeak, InitialThreshold = initThreshold, VReset = vReset, DetachReset = detachReset, Surrogate = surrogate ?? new ATan(),
        })
    {
    }

    /// <summary>The learnable scalar with <c>λ = sigmoid(leak_w)</c>.</summary>
    public Parameter LeakW => NeuronParameters[0];

    /// <summary>The learnable scalar with <c>θ = softplus(threshold_w)</c>.</summary>
    public Parameter ThresholdW => NeuronParameters[1];

    /// <summary>The leak λ the layer runs with now (read from <see cref="LeakW"/>, which must be on the CPU).</summary>
    public double Leak => IirLifNeuron.Leak(LeakW.Value.ToScalar());

    /// <summary>The threshold θ the layer runs with now (read from <see cref="ThresholdW"/>, which must be on the CPU).</summary>
    public double Threshold => IirLifNeuron.Threshold(ThresholdW.Value.ToScalar());
}
