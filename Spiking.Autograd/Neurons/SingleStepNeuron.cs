using System;
using Spiking.Tensors;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// A layer of spiking neurons in single-step mode (SpikingJelly's <c>step_mode='s'</c>): it keeps the membrane
/// potential between calls, and each <see cref="Step"/> charges, fires and resets once. Called repeatedly under grad
/// mode, the steps form one graph, so the backward runs through time exactly like the fused multi-step op
/// (<see cref="Functional.Neuron(Variable, NeuronOptions, Variable?)"/>), which gives the same spikes bit for bit.
/// <see cref="Reset"/> returns to rest (SpikingJelly's <c>reset_net</c>).
/// </summary>
/// <remarks>
/// Each step records three small ops: the charge <c>h = f(v, x)</c>, the fire <c>s = heaviside(h − θ)</c> (its
/// backward is the surrogate) and the reset <c>v = r(h, s)</c> (its backward follows the reset path through the
/// surrogate unless <c>detach_reset</c>). The gradient of h from the spike and from the reset add up in the graph.
/// </remarks>
public sealed class SingleStepNeuron : IDisposable
{
    private readonly Variable? _w;

    /// <summary>A neuron layer at rest; <paramref name="w"/> is the learnable scalar of a parametric LIF (not owned).</summary>
    /// <exception cref="ArgumentException"><paramref name="w"/> is missing for a parametric LIF, given for another model, or not one element.</exception>
    public SingleStepNeuron(NeuronOptions options, Variable? w = null)
    {
        NeuronChecks.ResolveK(options, w);
        Options = options;
        _w = w;
    }

    /// <summary>The model and its settings.</summary>
    public NeuronOptions Options { get; }

    /// <summary>
    /// The membrane potential after the last step's reset, or null at rest. It belongs to the neuron until the next
    /// <see cref="Step"/> or <see cref="Reset"/>; clone it to keep it.
    /// </summary>
    public Variable? V { get; private set; }

    /// <summary>
    /// One step: <c>h = f(v, x)</c>, <c>s = heaviside(h − v_threshold)</c>, <c>v ← reset(h, s)</c>; returns the spikes
    /// (shape of <paramref name="x"/>, as bits). The first step after construction or <see cref="Reset"/> starts from
    /// <c>v = v_reset</c> (0 for soft reset).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> holds spikes, is a scalar, or its shape differs from the state's (call <see cref="Reset"/> between inputs of different shapes).</exception>
    public Variable Step(Variable x)
    {
        NeuronChecks.Input(x, 1, "a dense tensor with at least one axis", nameof(x));
        var previous = V;
        if (previous is not null && previous.Shape != x.Shape)
        {
            throw new ArgumentException($"x has shape {x.Shape}, but the neuron's state has shape {previous.Shape}; call Reset() before a new input shape.", nameof(x));
        }
        double k = NeuronChecks.ResolveK(Options, _w);
        var p = new NeuronParameters(Options, (float)k);
        var shape = x.Shape;
        var h = Tensor.Empty(shape);
        var v = Tensor.Empty(shape);
        var spikes = SpikeTensor.Zeros(shape);
        NeuronKernel.Forward(x.Dense, 1, p, spikes, h, v, previous?.Dense);

        bool record = GradMode.IsEnabled && (x.RequiresGrad || (previous?.RequiresGrad ?? false) || (_w?.RequiresGrad ?? false));
        if (!record)
        {
            h.Dispose();
            var output = Variable.FromOp(spikes, null);
            Replace(Variable.FromOp(v, null));
            return output;
        }
        var vPrevious = previous ?? Variable.Constant(Tensor.Full(shape, p.VReset));
        var hVar = ChargeNode.Wrap(h, vPrevious, x, _w, p, k);
        var s = SpikeNode.Wrap(spikes, hVar, Options.Surrogate, p.Threshold);
        Replace(ResetNode.Wrap(v, hVar, p, Options.Surrogate));
        return s;
    }

    /// <summary>Returns to rest: the next <see cref="Step"/> starts from <c>v_reset</c> (SpikingJelly's <c>reset_net</c>).</summary>
    public void Reset() => Replace(null);

    /// <summary>Releases the state (as <see cref="Reset"/>).</summary>
    public void Dispose() => Reset();

    /// <summary>Sets the state, disposing the old one unless a recorded graph still refers to it.</summary>
    private void Replace(Variable? next)
    {
        var old = V;
        V = next;
        if (old is not null && old.Creator is null) old.Dispose();
    }
}
