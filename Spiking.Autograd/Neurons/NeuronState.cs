using System;
using System.Collections.Generic;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// The state a neuron layer carries from one call to the next (streaming, single steps): one variable per state
/// variable of the model (<see cref="NeuronModel.StateNames"/>), each shaped like one time step of the input. The
/// variables are outputs of the neuron op, so a gradient reaches the call that made them unless they are
/// <see cref="Detach"/>ed (truncated backpropagation through time).
/// </summary>
public sealed class NeuronState : IDisposable
{
    /// <summary>A state made of <paramref name="variables"/> (taken over), named by <paramref name="names"/>.</summary>
    /// <exception cref="ArgumentException">The counts differ, or the variables are not all dense of one shape.</exception>
    public NeuronState(IReadOnlyList<string> names, IReadOnlyList<Variable> variables)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(variables);
        if (names.Count != variables.Count || variables.Count == 0)
        {
            throw new ArgumentException($"A neuron state needs one variable per name; got {variables.Count} variables for {names.Count} names ({string.Join(", ", names)}).", nameof(variables));
        }
        for (int i = 0; i < variables.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(variables[i], nameof(variables));
            if (variables[i].IsSpikes || variables[i].Shape != variables[0].Shape)
            {
                throw new ArgumentException($"State variable '{names[i]}' must be dense of shape {variables[0].Shape}; got {variables[i]}.", nameof(variables));
            }
        }
        Names = names;
        Variables = variables;
    }

    /// <summary>The state variables' names.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The state variables, in the order of <see cref="Names"/>.</summary>
    public IReadOnlyList<Variable> Variables { get; }

    /// <summary>The variable named <paramref name="name"/> (e.g. <c>v</c>).</summary>
    /// <exception cref="KeyNotFoundException">The model has no state variable of that name.</exception>
    public Variable this[string name]
    {
        get
        {
            for (int i = 0; i < Names.Count; i++)
            {
                if (Names[i] == name) return Variables[i];
            }
            throw new KeyNotFoundException($"No state variable '{name}'; this state has {string.Join(", ", Names)}.");
        }
    }

    /// <summary>A copy of the state that does not lead back into the graph (truncates backpropagation through time here).</summary>
    public NeuronState Detach()
    {
        var detached = new Variable[Variables.Count];
        for (int i = 0; i < detached.Length; i++) detached[i] = Variables[i].Detach();
        return new NeuronState(Names, detached);
    }

    /// <summary>Disposes the state variables.</summary>
    public void Dispose()
    {
        foreach (var v in Variables) v.Dispose();
    }
}
