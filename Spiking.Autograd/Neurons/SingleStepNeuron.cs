using System;
using System.Collections.Generic;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// A layer of spiking neurons in single-step mode (SpikingJelly's <c>step_mode='s'</c>): it keeps the model's state
/// between calls, and each <see cref="Step(Variable)"/> runs the model's fused kernel over one step, starting from
/// that state. Called repeatedly under grad mode, the steps form one graph (each step one node whose inputs include
/// the previous state), so the backward runs through time as the multi-step op's does, and the spikes equal the
/// multi-step op's bit for bit. <see cref="Reset"/> returns to rest (SpikingJelly's <c>reset_net</c>).
/// </summary>
public sealed class SingleStepNeuron : IDisposable
{
    private readonly Variable[] _parameters;

    /// <summary>A layer at rest; <paramref name="parameters"/> are the model's learnable scalars (not owned).</summary>
    /// <exception cref="ArgumentException">The parameters do not match the model's.</exception>
    public SingleStepNeuron(NeuronModel model, params Variable[] parameters)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(parameters);
        NeuronChecks.ParameterValues(model, parameters);
        Model = model;
        _parameters = parameters;
    }

    /// <summary>The model and its settings.</summary>
    public NeuronModel Model { get; }

    /// <summary>
    /// The state after the last step, or null at rest. It belongs to the neuron until the next
    /// <see cref="Step(Variable)"/> or <see cref="Reset"/>; detach or clone it to keep it.
    /// </summary>
    public NeuronState? State { get; private set; }

    /// <summary>The membrane potential after the last step's reset (the first state variable), or null at rest.</summary>
    public Variable? V => State?.Variables[0];

    /// <summary>
    /// One step: charge, fire and reset from the current state; returns the output (shape of <paramref name="x"/>;
    /// spikes as bits). The first step after construction or <see cref="Reset"/> starts from rest.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> holds spikes, is a scalar, or its shape differs from the state's (call <see cref="Reset"/> between inputs of different shapes).</exception>
    public Variable Step(Variable x)
    {
        var output = NeuronNode.Run(x, Model, _parameters, State, singleStep: true, keepFinal: true, traces: false, out var next, out _);
        Replace(next);
        return output;
    }

    /// <summary><see cref="Step(Variable)"/> that also returns the step's traces (the saved values such as <c>h</c>, and the state); the caller owns them.</summary>
    public Variable Step(Variable x, out NeuronTraces traces)
    {
        var output = NeuronNode.Run(x, Model, _parameters, State, singleStep: true, keepFinal: true, traces: true, out var next, out var recorded);
        Replace(next);
        traces = recorded!;
        return output;
    }

    /// <summary>Returns to rest: the next <see cref="Step(Variable)"/> starts from the model's rest state.</summary>
    public void Reset() => Replace(null);

    /// <summary>Releases the state (as <see cref="Reset"/>).</summary>
    public void Dispose() => Reset();

    /// <summary>Sets the state, disposing the old variables unless a recorded graph still refers to them.</summary>
    private void Replace(NeuronState? next)
    {
        var old = State;
        State = next;
        if (old is null) return;
        foreach (var v in old.Variables)
        {
            if (v.Creator is null) v.Dispose();
        }
    }
}
