using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Neurons;

/// <summary>The current-based LIF (<see cref="CubaLifNeuron"/>): a trace worked out by hand, and its limits.</summary>
public sealed class CubaLifTests
{
    /// <summary>
    /// One neuron, τ_syn = τ_mem = 2, r = 1, v_leak = 0, v_threshold 1, hard reset to 0, ATan(alpha=2)
    /// (<c>g'(u) = 1/(1 + (πu)²)</c>); x = [2, 3, 1, 0] (every value exact in binary):
    /// <code>
    /// t0: i = 0 + (2 − 0)/2 = 1,       h = 0 + (0 − 0 + 1)/2 = 0.5,          s = 0, v = 0.5
    /// t1: i = 1 + (3 − 1)/2 = 2,       h = 0.5 + (0 − 0.5 + 2)/2 = 1.25,     s = 1, v = 0
    /// t2: i = 2 + (1 − 2)/2 = 1.5,     h = 0 + (0 − 0 + 1.5)/2 = 0.75,       s = 0, v = 0.75
    /// t3: i = 1.5 + (0 − 1.5)/2 = 0.75, h = 0.75 + (0 − 0.75 + 0.75)/2 = 0.75, s = 0, v = 0.75
    /// </code>
    /// Loss = s2 (G = [0, 0, 1, 0]); sg2 = g'(−0.25) = 0.6184865, sg1 = g'(0.25) = sg2, sg0 = g'(−0.5) = 0.2884004:
    /// <code>
    /// dL/dh2 = sg2;  dL/dv1 = sg2/2;  dL/di2 = sg2·r/2;  dL/dx2 = dL/di2/2 = 0.1546216;  dL/di1 (through i2) = dL/di2/2
    /// v1 = 0·s1 + (1 − s1)·h1, s1 = 1:  dL/dh1 = dL/dv1·(0 − h1)·sg1 = −0.625·sg1·sg2 = −0.2390784
    /// h1 = v0 + (−v0 + i1)/2:  dL/di1 = sg2/4 + dL/dh1/2 = 0.0350824;  dL/dv0 = dL/dh1/2;  dL/dx1 = dL/di1/2 = 0.0175412
    /// v0 = h0 (s0 = 0):  dL/dh0 = dL/dv0·(1 + (0 − h0)·sg0) = −0.1195392·0.8557998 = −0.1023016
    /// i0:  dL/di0 = dL/di1/2 + dL/dh0/2 = −0.0336096;  dL/dx0 = dL/di0/2 = −0.0168048;  dL/dx3 = 0
    /// </code>
    /// </summary>
    [Fact]
    public void A_hand_computed_trace()
    {
        var model = new CubaLifNeuron { TauSyn = 2, TauMem = 2, Surrogate = new ATan() };
        using var x = Variable.Input(Tensor.FromArray([2f, 3f, 1f, 0f], 4, 1));
        using var spikes = Functional.Neuron(x, model, [], out var traces);
        using (traces)
        {
            Assert.Equal(new[] { 0f, 1f, 0f, 0f }, spikes.ToDense().ToArray());
            Assert.Equal(new[] { 1f, 2f, 1.5f, 0.75f }, traces["i"].ToArray());
            Assert.Equal(new[] { 0.5f, 1.25f, 0.75f, 0.75f }, traces["h"].ToArray());
            Assert.Equal(new[] { 0.5f, 0f, 0.75f, 0.75f }, traces["v"].ToArray());
        }
        using var g = Tensor.FromArray([0f, 0f, 1f, 0f], 4, 1);
        spikes.Backward(g);
        Golden.AssertClose([-0.016804810186565548, 0.017541198062688612, 0.15462161453970907, 0], x.Grad!.ToArray(), "dL/dx");
    }

    [Fact]
    public void A_constant_current_settles_at_r_times_the_input()
    {
        // Far below threshold the current relaxes to x and the membrane to v_leak + r·x: the Euler steps keep the fixed point.
        var model = new CubaLifNeuron { TauSyn = 3, TauMem = 4, R = 2, VLeak = 0.1, VThreshold = 100f };
        using var x = Variable.Constant(Tensor.Full(new Shape(300, 1), 0.2f));
        using var spikes = Functional.Neuron(x, model, [], out var traces);
        using (traces)
        {
            Assert.Equal(0.2f, traces["i"].ToArray()[^1], 5);
            Assert.Equal(0.1f + 2 * 0.2f, traces["v"].ToArray()[^1], 5);
        }
    }
}
