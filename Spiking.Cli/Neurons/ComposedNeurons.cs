using System;
using System.Collections.Generic;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Tensors;

namespace Spiking.Cli.Neurons;

/// <summary>
/// Each neuron's dynamics written the way a user would without a fused kernel: a loop over time steps of autograd
/// ops (select the step, charge with arithmetic, <see cref="Functional.Spike"/> for the fire, arithmetic for the
/// reset, stack the outputs). The same equations as the fused models, built from independent ops, so they are both
/// the baseline <c>spiking bench neurons</c> times the fused kernel against and a cross-check in the tests.
/// </summary>
internal static class ComposedNeurons
{
    /// <summary>SpikingJelly's IF, LIF and parametric LIF (with <paramref name="w"/>), from ops.</summary>
    public static Variable LeakyIntegrate(Variable x, ThresholdNeuron model, Variable? w)
    {
        Func<Variable, Variable, Variable> charge = model switch
        {
            IFNeuron => (v, xt) => v + xt,
            LifNeuron { DecayInput: true } lif => (v, xt) => v + (xt - (v - model.ResetPotential)) * (float)(1.0 / lif.Tau),
            LifNeuron lif => (v, xt) => v - (v - model.ResetPotential) * (float)(1.0 / lif.Tau) + xt,
            ParametricLifNeuron { DecayInput: true } => (v, xt) => v + (xt - (v - model.ResetPotential)) * Functional.Sigmoid(w!),
            ParametricLifNeuron => (v, xt) => v - (v - model.ResetPotential) * Functional.Sigmoid(w!) + xt,
            _ => throw new ArgumentException($"not of the IF/LIF family: {model}", nameof(model)),
        };
        return Threshold(x, model, charge);
    }

    /// <summary>
    /// The fire and reset every <see cref="ThresholdNeuron"/> shares, around <paramref name="charge"/>
    /// (<c>h = charge(v, x_t)</c>): spike at <c>h ≥ v_threshold</c>, hard reset <c>h − h·s + v_reset·s</c> or soft reset
    /// <c>h − v_threshold·s</c>, with the spike detached when the model says so.
    /// </summary>
    public static Variable Threshold(Variable x, ThresholdNeuron model, Func<Variable, Variable, Variable> charge)
    {
        var v = Rest(x, model.ResetPotential);
        var outputs = new List<Variable>(x.Shape[0]);
        foreach (var xt in Functional.Unbind(x, 0))
        {
            var h = charge(v, xt);
            var s = Functional.Spike(h, model.Surrogate!, model.VThreshold);
            var reset = model.DetachReset ? s.Detach() : s;
            v = model.HardReset ? h - h * reset + reset * model.ResetPotential : h - reset * model.VThreshold;
            outputs.Add(s);
        }
        return Functional.Stack(outputs, 0);
    }

    /// <summary>A constant state of one step's shape at <paramref name="value"/>.</summary>
    public static Variable Rest(Variable x, float value) => Variable.Constant(Tensor.Full(x.Shape.DropLeading(), value));
}
