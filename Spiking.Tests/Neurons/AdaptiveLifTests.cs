using System;
using System.Collections.Generic;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Layers;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Neurons;

/// <summary>The adaptive LIF (<see cref="AdaptiveLifNeuron"/>): a trace worked out by hand, and its adaptation settings.</summary>
public sealed class AdaptiveLifTests
{
    /// <summary>
    /// One neuron, tau 2 with decay_input, v_threshold 1, hard reset to 0, β = 0.5, ρ = 0.5, ATan(alpha=2) whose
    /// derivative is <c>g'(u) = 1/(1 + (πu)²)</c>; x = [2.4, 2.4, 0.6]:
    /// <code>
    /// t0: h = 0 + (2.4 − 0)/2 = 1.2,      θ = 1 + 0.5·0 = 1,    s = 1, v = 0,   a = 0.5·0 + 1 = 1
    /// t1: h = 0 + (2.4 − 0)/2 = 1.2,      θ = 1 + 0.5·1 = 1.5,  s = 0, v = 1.2, a = 0.5
    /// t2: h = 1.2 + (0.6 − 1.2)/2 = 0.9,  θ = 1 + 0.5·0.5 = 1.25, s = 0, v = 0.9, a = 0.25
    /// </code>
    /// The same input drives a LIF to fire at t1 too; the risen threshold stops it. Loss = s1 (G = [0, 1, 0]):
    /// <code>
    /// u1 = 1.2 − 1.5 = −0.3, sg1 = 1/(1 + (0.3π)²) = 0.5295869;  dL/dh1 = sg1;  dL/dx1 = sg1/2 = 0.2647934
    /// θ1 = 1 + β·a0:    dL/da0 = −β·sg1 = −0.2647934
    /// h1 = v0 + (x1 − v0)/2:  dL/dv0 = sg1·(1 − 1/2) = 0.2647934
    /// a0 = ρ·a_{−1} + s0 and v0 = s0·0 + (1 − s0)·h0, s0 = 1:  dL/ds0 = dL/da0 + dL/dv0·(0 − h0) = −0.2647934 − 0.3177521 = −0.5825455
    /// u0 = 0.2, sg0 = 1/(1 + (0.2π)²) = 0.7169568;  dL/dh0 = dL/ds0·sg0 + dL/dv0·(1 − s0) = −0.4176600;  dL/dx0 = −0.2088300
    /// </code>
    /// With detach_reset only the reset's spike is cut: dL/ds0 = dL/da0 = −0.2647934, dL/dx0 = −0.2647934·sg0/2 = −0.0949227.
    /// </summary>
    [Theory]
    [InlineData(false, -0.20882999276665892)]
    [InlineData(true, -0.09492272398484497)]
    public void A_hand_computed_trace(bool detach, double gradX0)
    {
        var model = new AdaptiveLifNeuron { Tau = 2, Rho = 0.5, Beta = 0.5, DetachReset = detach, Surrogate = new ATan() };
        using var x = Variable.Input(Tensor.FromArray([2.4f, 2.4f, 0.6f], 3, 1));
        using var spikes = Functional.Neuron(x, model, [], out var traces);
        using (traces)
        {
            Assert.Equal(new[] { 1f, 0f, 0f }, spikes.ToDense().ToArray());
            Golden.AssertClose([1.2, 1.2, 0.9], traces["h"].ToArray(), "h");
            Golden.AssertClose([1, 1.5, 1.25], traces["theta"].ToArray(), "theta");
            Golden.AssertClose([0, 1.2, 0.9], traces["v"].ToArray(), "v");
            Golden.AssertClose([1, 0.5, 0.25], traces["a"].ToArray(), "a");
        }
        using var g = Tensor.FromArray([0f, 1f, 0f], 3, 1);
        spikes.Backward(g);
        Golden.AssertClose([gradX0, 0.26479342672202727, 0], x.Grad!.ToArray(), "dL/dx");
    }

    [Fact]
    public void Tau_adapt_and_rho_are_one_setting()
    {
        var byTau = new AdaptiveLifNeuron { TauAdapt = 5 };
        Assert.Equal(Math.Exp(-0.2), byTau.Rho);
        var byRho = new AdaptiveLifNeuron { Rho = 0.8 };
        Assert.Equal(-1 / Math.Log(0.8), byRho.TauAdapt);
        Assert.Equal(0.0, new AdaptiveLifNeuron { Rho = 0 }.TauAdapt);
        var both = new NeuronSettings("ALIFNode", new Dictionary<string, object?> { ["tau_adapt"] = 5.0, ["rho"] = 0.8 });
        var e = Assert.Throws<ArgumentException>(() => NeuronCatalog.Create(both));
        Assert.Contains("tau_adapt", e.Message, StringComparison.Ordinal);
        Assert.Contains("rho", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_beta_it_is_the_LIF()
    {
        var lif = new LifNeuron { Tau = 3, DecayInput = false, VReset = null, Surrogate = new ATan() };
        var alif = new AdaptiveLifNeuron { Tau = 3, DecayInput = false, VReset = null, Beta = 0, Surrogate = new ATan() };
        var c = new NeuronCase([6, 4, 37], LifKind.LeakyIntegrateAndFire, false, false, false, "ATan", 1f, 0f, 3.0, 0, 19);
        var (x, g) = c.Inputs();
        var expected = NeuronHarness.Multi(lif, 0, x, g, c.Shape);
        var actual = RecurrentHarness.Multi(alif, x, g, c.Shape);
        Assert.Equal(expected.Words, actual.Words);
        Reference.AssertBitwise(expected.V, actual.Traces["v"], "v");
        // The backward splits the reset's slope into the spike's path and the rest, so gradients agree to rounding.
        Golden.AssertClose(Array.ConvertAll(expected.GradX, v => (double)v), actual.GradX, "dL/dx", rel: 1e-5, abs: 1e-6);
    }
}
