using System;
using System.Collections.Generic;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Layers;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Neurons;

/// <summary>Carried state cut from the graph (truncated BPTT), state variables by name, and a user's neuron class in the catalog.</summary>
public sealed class NeuronStateAndCatalogTests
{
    private static readonly LifNeuron s_lif = new() { Tau = 1.7, Surrogate = new ATan() };

    private static (Tensor First, Tensor Second, Tensor G1, Tensor G2) Halves()
    {
        var philox = new PhiloxGenerator(21);
        return (philox.Normal(new Shape(4, 3, 37), 0.5f, 0.8f), philox.Normal(new Shape(3, 3, 37), 0.5f, 0.8f),
            philox.Normal(new Shape(4, 3, 37)), philox.Normal(new Shape(3, 3, 37)));
    }

    [Fact]
    public void A_detached_state_carries_the_values_but_stops_the_gradient_at_the_cut()
    {
        var (a, b, g1, g2) = Halves();
        using (a) using (b) using (g1) using (g2)
        {
            // Through the carried state: the second half's loss reaches the first half's input.
            using var x1 = Variable.Input(a.Clone());
            using var x2 = Variable.Input(b.Clone());
            using var s1 = Functional.Neuron(x1, s_lif, [], null, out var carried);
            using var s2 = Functional.Neuron(x2, s_lif, [], carried, out var end);
            using (carried)
            using (end)
            using (var loss = Functional.Sum(Functional.SpikesToDense(s1) * Variable.Constant(g1.Clone())) + Functional.Sum(Functional.SpikesToDense(s2) * Variable.Constant(g2.Clone())))
            {
                loss.Backward();
            }

            // Cut at the boundary: the same values, the second half's gradient unchanged, the first half's from its own loss only.
            using var y1 = Variable.Input(a.Clone());
            using var y2 = Variable.Input(b.Clone());
            using var t1 = Functional.Neuron(y1, s_lif, [], null, out var state);
            using var cut = state.Detach();
            state.Dispose();
            Assert.Equal(["v"], cut.Names);
            Assert.False(cut["v"].RequiresGrad);
            using var t2 = Functional.Neuron(y2, s_lif, [], cut, out var end2);
            end2.Dispose();
            Assert.Equal(s2.Spikes!.Words.ToArray(), t2.Spikes!.Words.ToArray());
            t1.Backward(g1);
            t2.Backward(g2);
            Reference.AssertBitwise(x2.Grad!.ToArray(), y2.Grad!.ToArray(), "dL/dx of the second half");

            using var alone = Variable.Input(a.Clone());
            using (var s = Functional.Neuron(alone, s_lif)) s.Backward(g1);
            Reference.AssertBitwise(alone.Grad!.ToArray(), y1.Grad!.ToArray(), "dL/dx of the first half, cut");
            Assert.NotEqual(x1.Grad!.ToArray(), y1.Grad!.ToArray());
            var missing = Assert.Throws<KeyNotFoundException>(() => cut["w"]);
            Assert.Contains("'w'", missing.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_registered_class_is_built_by_name_and_refuses_settings_it_does_not_read()
    {
        NeuronCatalog.Register("TestThresholdIFNode", s => new SpikingNeuron(IFNeuron.FromSpikingJelly(s)));
        Assert.Contains("TestThresholdIFNode", NeuronCatalog.Names);
        var values = new Dictionary<string, object?>
        {
            ["v_threshold"] = 0.5,
            ["v_reset"] = null,
            ["surrogate"] = new Dictionary<string, object?> { ["name"] = "Rect", ["params"] = new Dictionary<string, object?> { ["alpha"] = 2.0 } },
            ["step_mode"] = "m",
        };
        using (var layer = (SpikingNeuron)NeuronCatalog.Create(new NeuronSettings("TestThresholdIFNode", values)))
        {
            var model = Assert.IsType<IFNeuron>(layer.Model);
            Assert.Equal(0.5f, model.VThreshold);
            Assert.False(model.HardReset);
            Assert.Equal("Rect(alpha=2)", model.Surrogate!.ToString());
        }
        values["tau"] = 2.0;
        var e = Assert.Throws<ArgumentException>(() => NeuronCatalog.Create(new NeuronSettings("TestThresholdIFNode", values)));
        Assert.Contains("no parameter 'tau'", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => NeuronCatalog.Register(" ", s => new SpikingNeuron(IFNeuron.FromSpikingJelly(s))));
    }
}
