using System;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Neurons;

/// <summary><see cref="SingleStepNeuron"/>: T single steps equal one multi-step call; state, reset and errors.</summary>
public sealed class SingleStepTests
{
    [Theory]
    [MemberData(nameof(NeuronBackwardTests.Combinations), MemberType = typeof(NeuronBackwardTests))]
    public void T_single_steps_equal_one_multi_step_call(LifKind model, bool decayInput, bool hard, bool detach)
    {
        var c = new NeuronCase([6, 3, 70], model, decayInput, hard, detach, "Sigmoid", 1f, -0.25f, 1.5, 0.7, 123);
        var options = c.Options();
        var (x, g) = c.Inputs();
        var multi = NeuronHarness.Multi(options, c.W, x, g, c.Shape);
        var single = NeuronHarness.SingleSteps(options, c.W, x, g, c.Shape);
        Assert.Equal(multi.Words, single.Words);
        Reference.AssertBitwise(multi.H, single.H, "h");
        Reference.AssertBitwise(multi.V, single.V, "v");
        var gx = Array.ConvertAll(multi.GradX, v => (double)v);
        Golden.AssertClose(gx, single.GradX, "dL/dx", rel: 1e-5, abs: 1e-6);
        Golden.AssertClose([multi.GradW], [single.GradW], "dL/dw", rel: 1e-5, abs: 1e-6);
        NeuronHarness.AssertMatches(NeuronReference.Run(options, c.W, x, g, c.Steps), single, "single-step vs reference");
    }

    [Fact]
    public void Reset_returns_to_rest()
    {
        using var neuron = new SingleStepNeuron(TestNeurons.Lif());
        using var x = Variable.Constant(Tensor.FromArray([1.5f, 0.8f, 3f], 3));
        using var first = neuron.Step(x);
        Assert.Equal(new[] { 0f, 0f, 1f }, first.ToDense().ToArray());
        Assert.Equal(new[] { 0.75f, 0.4f, 0f }, neuron.V!.Dense.ToArray());
        using var second = neuron.Step(x);
        Assert.Equal(new[] { 1f, 0f, 1f }, second.ToDense().ToArray());
        neuron.Reset();
        Assert.Null(neuron.V);
        using var again = neuron.Step(x);
        Assert.Equal(first.Spikes!.Words.ToArray(), again.Spikes!.Words.ToArray());
    }

    [Fact]
    public void Soft_reset_starts_at_zero_and_subtracts_the_threshold()
    {
        using var neuron = new SingleStepNeuron(TestNeurons.IF(vThreshold: 1f, vReset: null));
        using var x = Variable.Constant(Tensor.FromArray([0.6f, 2.5f], 2));
        using var s1 = neuron.Step(x);
        Assert.Equal(new[] { 0.6f, 1.5f }, neuron.V!.Dense.ToArray());
        using var s2 = neuron.Step(x);
        Assert.Equal(new[] { 1f, 1f }, s2.ToDense().ToArray());
        Assert.Equal(new[] { 0.6f + 0.6f - 1f, 1.5f + 2.5f - 1f }, neuron.V!.Dense.ToArray());
    }

    [Fact]
    public void A_new_shape_needs_a_reset()
    {
        using var neuron = new SingleStepNeuron(TestNeurons.IF());
        using var a = Variable.Constant(Tensor.Zeros(2, 3));
        using var b = Variable.Constant(Tensor.Zeros(4, 3));
        using var s = neuron.Step(a);
        var e = Assert.Throws<ArgumentException>(() => neuron.Step(b));
        Assert.Contains("Reset()", e.Message, StringComparison.Ordinal);
        neuron.Reset();
        using var ok = neuron.Step(b);
        Assert.Equal(b.Shape, ok.Shape);
    }

    [Fact]
    public void Inference_records_no_graph()
    {
        using var neuron = new SingleStepNeuron(TestNeurons.Lif(surrogate: new ATan()));
        using var x = Variable.Input(Tensor.FromArray([3f, 0f], 2));
        using (GradMode.NoGrad())
        {
            using var s = neuron.Step(x);
            Assert.Null(s.Creator);
            Assert.Null(neuron.V!.Creator);
        }
    }

    [Fact]
    public void Parametric_lif_needs_w()
    {
        Assert.Throws<ArgumentException>(() => new SingleStepNeuron(TestNeurons.ParametricLif()));
        using var w = Variable.Parameter(Tensor.Scalar(0f));
        Assert.Throws<ArgumentException>(() => new SingleStepNeuron(TestNeurons.Lif(), w));
    }
}
