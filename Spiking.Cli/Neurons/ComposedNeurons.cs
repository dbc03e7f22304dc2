using System;
using System.Collections.Generic;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
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

    /// <summary>
    /// SpikingJelly's KLIF with its learnable <paramref name="k"/>: the LIF charge, <c>f = relu(k·h)</c>, spike at
    /// <c>f ≥ v_threshold</c>, and the reset on f, or with scale_reset on <c>f/k</c> with threshold <c>v_threshold/k</c>.
    /// </summary>
    public static Variable Klif(Variable x, KlifNeuron model, Variable k)
    {
        var charge = LifCharge(model.Tau, model.DecayInput, model.ResetPotential);
        var v = Rest(x, model.ResetPotential);
        var outputs = new List<Variable>(x.Shape[0]);
        foreach (var xt in Functional.Unbind(x, 0))
        {
            var f = Functional.Relu(charge(v, xt) * k);
            var s = Functional.Spike(f, model.Surrogate!, model.VThreshold);
            var reset = model.DetachReset ? s.Detach() : s;
            var value = model.ScaleReset ? f / k : f;
            if (model.HardReset) v = value - value * reset + reset * model.ResetPotential;
            else v = model.ScaleReset ? value - reset * model.VThreshold / k : value - reset * model.VThreshold;
            outputs.Add(s);
        }
        return Functional.Stack(outputs, 0);
    }

    /// <summary>
    /// IIR-SNN's LIF (<see cref="IirLifNeuron"/>) with its learnable <paramref name="leakW"/> and
    /// <paramref name="thresholdW"/>: <c>λ = sigmoid(leak_w)</c>, <c>θ = softplus(threshold_w)</c> as <c>log(1 + exp(w))</c>,
    /// <c>h = λ·v + x</c>, the spike of <c>z = (h − θ)/θ</c> at 0, and the soft reset <c>h − θ·s</c> or the hard one.
    /// </summary>
    public static Variable IirLif(Variable x, IirLifNeuron model, Variable leakW, Variable thresholdW)
    {
        var leak = Functional.Sigmoid(leakW);
        var threshold = Functional.Log(Functional.Exp(thresholdW) + 1f);
        var v = Rest(x, model.ResetPotential);
        var outputs = new List<Variable>(x.Shape[0]);
        foreach (var xt in Functional.Unbind(x, 0))
        {
            var h = v * leak + xt;
            var s = Functional.Spike((h - threshold) / threshold, model.Surrogate!);
            var reset = model.DetachReset ? s.Detach() : s;
            v = model.HardReset ? h - h * reset + reset * model.ResetPotential : h - reset * threshold;
            outputs.Add(s);
        }
        return Functional.Stack(outputs, 0);
    }

    /// <summary>SpikingJelly's LIAF: the LIF charge, output <c>act(h − v_threshold)</c> or <c>act(h)</c>, and a spike that only resets.</summary>
    public static Variable Liaf(Variable x, LiafNeuron model)
    {
        var charge = LifCharge(model.Tau, model.DecayInput, model.ResetPotential);
        var v = Rest(x, model.ResetPotential);
        var outputs = new List<Variable>(x.Shape[0]);
        foreach (var xt in Functional.Unbind(x, 0))
        {
            var h = charge(v, xt);
            var a = model.ThresholdRelated ? h - model.VThreshold : h;
            outputs.Add(model.Act switch
            {
                LiafActivation.Sigmoid => Functional.Sigmoid(a),
                LiafActivation.Tanh => Functional.Tanh(a),
                _ => Functional.Relu(a),
            });
            var s = Functional.Spike(h, model.Surrogate!, model.VThreshold);
            var reset = model.DetachReset ? s.Detach() : s;
            v = model.HardReset ? h - h * reset + reset * model.ResetPotential : h - reset * model.VThreshold;
        }
        return Functional.Stack(outputs, 0);
    }

    /// <summary>
    /// SpikingJelly's ILIF: <c>h = v − v/τ + x</c>, the count as D thresholds of <c>u = h/v_threshold</c> at
    /// <c>j + 1/2</c> (round(clamp(u, 0, D)) away from the halves), made straight-through with slope 1 inside the
    /// window by <c>count + (u·w − (u·w).Detach())</c> for the detached window mask w, and the soft reset by the count.
    /// </summary>
    public static Variable Ilif(Variable x, IlifNeuron model)
    {
        float kTau = (float)(1.0 / model.Tau), theta = model.VThreshold;
        var fire = new Sigmoid();
        var v = Rest(x, 0f);
        var outputs = new List<Variable>(x.Shape[0]);
        foreach (var xt in Functional.Unbind(x, 0))
        {
            var h = v - v * kTau + xt;
            var u = h / theta;
            var level = u.Detach();
            var count = Functional.SpikesToDense(Functional.Spike(level, fire, 0.5f));
            for (int j = 1; j < model.MaxSpikeCount; j++) count += Functional.SpikesToDense(Functional.Spike(level, fire, j + 0.5f));
            var window = Functional.SpikesToDense(Functional.Spike(level, fire, (float)model.GradMin)) * Functional.SpikesToDense(Functional.Spike(-level, fire, -(float)model.GradMax));
            var passing = u * window;
            var c = count + (passing - passing.Detach());
            v = h - (model.DetachReset ? c.Detach() : c) * theta;
            outputs.Add(c);
        }
        return Functional.Stack(outputs, 0);
    }

    /// <summary>SpikingJelly's LIF charge <c>h = charge(v, x_t)</c>, with or without decay_input.</summary>
    private static Func<Variable, Variable, Variable> LifCharge(double tau, bool decayInput, float vReset)
    {
        float k = (float)(1.0 / tau);
        return decayInput ? (v, xt) => v + (xt - (v - vReset)) * k : (v, xt) => v - (v - vReset) * k + xt;
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

    /// <summary>
    /// SpikingJelly's PSN family from ops: <c>H = MatMul(matrix, X) + stepBias</c> with X the input as <c>[T, N]</c>
    /// (<paramref name="stepBias"/> broadcasts: <c>[T, 1]</c>, or a scalar), then <see cref="Functional.Spike"/> at 0.
    /// </summary>
    public static Variable Parallel(Variable x, Variable matrix, Variable stepBias, Surrogate surrogate)
    {
        int steps = x.Shape[0];
        var h = Functional.MatMul(matrix, Functional.Reshape(x, steps, x.Shape.ElementCount / steps)) + stepBias;
        return Functional.Spike(Functional.Reshape(h, x.Shape), surrogate);
    }

    /// <summary>MaskedPSN's <c>Wm = W ⊙ F</c> from ops, the factor F written out here: the band <c>0 ≤ i − j &lt; k</c>, mixed with ones below λ = 1.</summary>
    public static Variable MaskedMatrix(Variable weight, int k, float lambda)
    {
        int steps = weight.Shape[0];
        var factor = Tensor.Empty(steps, steps);
        var f = factor.AsSpan();
        for (int i = 0; i < steps; i++)
        {
            for (int j = 0; j < steps; j++)
            {
                float band = i - j >= 0 && i - j < k ? 1f : 0f;
                f[i * steps + j] = lambda >= 1f ? band : lambda * band + (1f - lambda);
            }
        }
        return weight * Variable.Constant(factor);
    }

    /// <summary>SlidingPSN's <c>[T, T]</c> band from ops: a constant 0/1 selection <c>[T·T, k]</c> times <c>w</c> as a column.</summary>
    public static Variable SlidingMatrix(Variable weight, int steps)
    {
        int k = weight.Shape[0];
        var select = Tensor.Zeros(steps * steps, k);
        var s = select.AsSpan();
        for (int i = 0; i < steps; i++)
        {
            for (int j = Math.Max(0, i - k + 1); j <= i; j++) s[(i * steps + j) * k + k - 1 - (i - j)] = 1f;
        }
        return Functional.Reshape(Functional.MatMul(Variable.Constant(select), Functional.Reshape(weight, k, 1)), steps, steps);
    }

    /// <summary>
    /// SpikingJelly's FewSpikeNode from ops: <c>u = Σ_t x_t</c>, then per table entry <c>z = Spike(u, θ_k)</c>,
    /// <c>y_k = z·d_k</c>, <c>u = u − z·h_k</c>; the outputs stacked over k.
    /// </summary>
    public static Variable FewSpike(Variable x, ReadOnlySpan<float> theta, ReadOnlySpan<float> h, ReadOnlySpan<float> d, Surrogate surrogate)
    {
        var u = Functional.Sum(x, 0);
        var outputs = new List<Variable>(theta.Length);
        for (int k = 0; k < theta.Length; k++)
        {
            var z = Functional.Spike(u, surrogate, theta[k]);
            outputs.Add(z * d[k]);
            u = u - z * h[k];
        }
        return Functional.Stack(outputs, 0);
    }
}
