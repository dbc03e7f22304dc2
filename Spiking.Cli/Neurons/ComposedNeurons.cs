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

    /// <summary>SpikingJelly's QIF, from ops: <c>h = v + (x + a0·(v − v_rest)·(v − v_c))/τ</c>.</summary>
    public static Variable Qif(Variable x, QifNeuron model)
    {
        float k = (float)(1.0 / model.Tau), a0 = (float)model.A0, vRest = (float)model.VRest, vC = (float)model.VC;
        return Threshold(x, model, (v, xt) => v + (xt + (v - vRest) * (v - vC) * a0) * k);
    }

    /// <summary>SpikingJelly's EIF, from ops: <c>h = v + (x + v_rest − v + Δ_T·exp((v − θ_rh)/Δ_T))/τ</c>.</summary>
    public static Variable Eif(Variable x, EifNeuron model)
    {
        float k = (float)(1.0 / model.Tau), deltaT = (float)model.DeltaT, vRest = (float)model.VRest, thetaRh = (float)model.ThetaRh;
        return Threshold(x, model, (v, xt) => v + (xt + vRest - v + Functional.Exp((v - thetaRh) / deltaT) * deltaT) * k);
    }

    /// <summary>
    /// SpikingJelly's Izhikevich neuron, from ops: the QIF charge less <c>w</c>, the hard reset's <c>v_reset</c> term and
    /// the jump <c>b·s</c> on the undetached spike, <c>w ← w + (a·(h − v_rest) − w)/τ_w + b·s</c>.
    /// </summary>
    public static Variable Izhikevich(Variable x, IzhikevichNeuron model)
    {
        float k = (float)(1.0 / model.Tau), a0 = (float)model.A0, vRest = (float)model.VRest, vC = (float)model.VC;
        float kW = (float)(1.0 / model.TauW), a = (float)model.A, b = (float)model.B;
        var v = Rest(x, model.ResetPotential);
        var w = Rest(x, (float)model.WRest);
        var outputs = new List<Variable>(x.Shape[0]);
        foreach (var xt in Functional.Unbind(x, 0))
        {
            var h = v + (xt + (v - vRest) * (v - vC) * a0 - w) * k;
            var s = Functional.Spike(h, model.Surrogate!, model.VThreshold);
            var reset = model.DetachReset ? s.Detach() : s;
            v = model.HardReset ? h - h * reset + s * model.ResetPotential : h - reset * model.VThreshold;
            w = w + ((h - vRest) * a - w) * kW + s * b;
            outputs.Add(s);
        }
        return Functional.Stack(outputs, 0);
    }

    /// <summary>
    /// The adaptive LIF, from ops: the LIF charge, fire at <c>h − (v_threshold + β·a) ≥ 0</c>, the reset on the
    /// (optionally detached) spike with the baseline threshold, <c>a ← ρ·a + s</c> on the undetached spike.
    /// </summary>
    public static Variable AdaptiveLif(Variable x, AdaptiveLifNeuron model)
    {
        float k = (float)(1.0 / model.Tau), rho = (float)model.Rho, beta = (float)model.Beta, vr = model.ResetPotential;
        var v = Rest(x, vr);
        var a = Rest(x, 0f);
        var outputs = new List<Variable>(x.Shape[0]);
        foreach (var xt in Functional.Unbind(x, 0))
        {
            var h = model.DecayInput ? v + (xt - (v - vr)) * k : v - (v - vr) * k + xt;
            var s = Functional.Spike(h - (a * beta + model.VThreshold), model.Surrogate!);
            var reset = model.DetachReset ? s.Detach() : s;
            v = model.HardReset ? h - h * reset + reset * vr : h - reset * model.VThreshold;
            a = a * rho + s;
            outputs.Add(s);
        }
        return Functional.Stack(outputs, 0);
    }

    /// <summary>The current-based LIF, from ops: <c>i ← i + (x − i)/τ_syn</c>, <c>h = v + (v_leak − v + r·i)/τ_mem</c>, then <see cref="Threshold"/>.</summary>
    public static Variable CubaLif(Variable x, CubaLifNeuron model)
    {
        float kSyn = (float)(1.0 / model.TauSyn), kMem = (float)(1.0 / model.TauMem), r = (float)model.R, vLeak = (float)model.VLeak;
        var current = Rest(x, 0f);
        // Threshold charges once per step in time order, so the current can live in the closure.
        return Threshold(x, model, (v, xt) =>
        {
            current = current + (xt - current) * kSyn;
            return v + (vLeak - v + current * r) * kMem;
        });
    }

    /// <summary>A constant state of one step's shape at <paramref name="value"/>.</summary>
    public static Variable Rest(Variable x, float value) => Variable.Constant(Tensor.Full(x.Shape.DropLeading(), value));
}
