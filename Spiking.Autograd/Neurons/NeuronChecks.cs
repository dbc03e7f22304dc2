using System;
using Spiking.Tensors;

namespace Spiking.Autograd.Neurons;

/// <summary>Argument checks shared by the neuron ops, and the resolution of <c>k</c> (1/tau or sigmoid(w)).</summary>
internal static class NeuronChecks
{
    /// <summary>Checks that <paramref name="w"/> is given exactly for the parametric LIF, and returns <c>k</c> in double.</summary>
    public static double ResolveK(NeuronOptions options, Variable? w)
    {
        ArgumentNullException.ThrowIfNull(options);
        switch (options.Model)
        {
            case NeuronModel.ParametricLeakyIntegrateAndFire:
                if (w is null)
                {
                    throw new ArgumentException(
                        $"A ParametricLIF neuron needs its learnable scalar w (1/tau = sigmoid(w); start it at {options.InitialW:R} for init_tau {options.InitTau:R}).", nameof(w));
                }
                if (w.IsSpikes || w.Shape.ElementCount != 1)
                {
                    throw new ArgumentException($"w must be a dense scalar (one element); got {w}.", nameof(w));
                }
                double value = w.Dense.AsReadOnlySpan()[0];
                if (!double.IsFinite(value)) throw new ArgumentOutOfRangeException(nameof(w), value, "w must be finite.");
                return 1.0 / (1.0 + Math.Exp(-value));
            case NeuronModel.LeakyIntegrateAndFire:
                RejectW(options, w);
                return 1.0 / options.Tau;
            default:
                RejectW(options, w);
                return 1.0;
        }
    }

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

    private static void RejectW(NeuronOptions options, Variable? w)
    {
        if (w is not null)
        {
            throw new ArgumentException($"Only a ParametricLIF neuron takes a learnable w; this neuron is {options.Model}.", nameof(w));
        }
    }
}
