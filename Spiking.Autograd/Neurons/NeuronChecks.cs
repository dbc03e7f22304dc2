using System;
using System.Collections.Generic;
using Spiking.Tensors;

namespace Spiking.Autograd.Neurons;

/// <summary>Argument checks shared by the neuron ops: the input, the model's parameters and a carried state.</summary>
internal static class NeuronChecks
{
    /// <summary>Checks a dense input with at least <paramref name="minRank"/> axes.</summary>
    public static void Input(Variable x, int minRank, string what, string paramName)
    {
        ArgumentNullException.ThrowIfNull(x, paramName);
        if (x.IsSpikes)
        {
            throw new ArgumentException($"{paramName} must be a dense input current; {x} holds spikes (unpack them with ToDense() or put a layer in between).", paramName);
        }
        if (x.Shape.Rank < minRank) throw new ArgumentException($"{paramName} must be {what}; got shape {x.Shape}.", paramName);
    }

    /// <summary>Checks that <paramref name="parameters"/> are the model's learnable scalars (one dense finite element each) and returns their values.</summary>
    public static float[] ParameterValues(NeuronModel model, IReadOnlyList<Variable> parameters)
    {
        var expected = model.Parameters;
        if (parameters.Count != expected.Count)
        {
            string names = expected.Count == 0 ? "none" : string.Join(", ", NamesOf(expected));
            throw new ArgumentException(
                $"The {model.Name} neuron takes {expected.Count} learnable parameter{(expected.Count == 1 ? "" : "s")} ({names}); got {parameters.Count}.", nameof(parameters));
        }
        var values = new float[parameters.Count];
        for (int i = 0; i < values.Length; i++)
        {
            var p = parameters[i] ?? throw new ArgumentNullException(nameof(parameters), $"The {model.Name} neuron's parameter '{expected[i].Name}' is null.");
            if (p.IsSpikes || p.Shape.ElementCount != 1)
            {
                throw new ArgumentException($"The {model.Name} neuron's parameter '{expected[i].Name}' must be a dense scalar (one element); got {p}.", nameof(parameters));
            }
            if (!p.Dense.IsOnHost)
            {
                throw OpChecks.NoDeviceKernel($"The {model.Name} neuron's learnable '{expected[i].Name}'", p.Device, "learnable neuron parameters live on the CPU");
            }
            values[i] = p.Dense.AsReadOnlySpan()[0];
            if (!float.IsFinite(values[i]))
            {
                throw new ArgumentOutOfRangeException(nameof(parameters), values[i], $"The {model.Name} neuron's parameter '{expected[i].Name}' must be finite.");
            }
        }
        return values;
    }

    /// <summary>Checks that a carried state has the model's variables, each dense and shaped like one step.</summary>
    public static void State(NeuronModel model, NeuronState? initial, Shape stepShape)
    {
        if (initial is null) return;
        var names = model.StateNames;
        if (initial.Variables.Count != names.Count)
        {
            throw new ArgumentException(
                $"The {model.Name} neuron's state has {names.Count} variable(s) ({string.Join(", ", names)}); the state given has {initial.Variables.Count} ({string.Join(", ", initial.Names)}).", nameof(initial));
        }
        for (int j = 0; j < names.Count; j++)
        {
            var v = initial.Variables[j];
            if (v.Shape != stepShape || !v.Dense.IsOnHost)
            {
                throw new ArgumentException(
                    $"State variable '{names[j]}' of the {model.Name} neuron must be a host tensor of one step's shape {stepShape}; got {v} on {v.Device}. Reset() the state before an input of a new shape.", nameof(initial));
            }
        }
    }

    /// <summary>Checks that a model's names agree with its dynamics' counts (a model author's mistake, reported as such).</summary>
    public static void Counts<TDynamics>(NeuronModel model) where TDynamics : struct, INeuronDynamics
    {
        if (TDynamics.StateCount < 1 || TDynamics.StateCount != model.StateNames.Count || TDynamics.SavedCount != model.SavedNames.Count)
        {
            throw new InvalidOperationException(
                $"The {model.Name} model names {model.StateNames.Count} state variable(s) and {model.SavedNames.Count} saved value(s), but its dynamics " +
                $"{typeof(TDynamics).Name} declares {TDynamics.StateCount} and {TDynamics.SavedCount}; they must agree (and a neuron has at least one state variable).");
        }
    }

    private static List<string> NamesOf(IReadOnlyList<NeuronParameter> parameters)
    {
        var names = new List<string>(parameters.Count);
        foreach (var p in parameters) names.Add(p.Name);
        return names;
    }
}
