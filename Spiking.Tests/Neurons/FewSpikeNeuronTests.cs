using System;
using System.Linq;
using FsCheck.Xunit;
using Spiking.Autograd;
using Spiking.Autograd.Surrogates;
using Spiking.Layers;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Neurons;

/// <summary>Few-spikes coding: the fused op against the double reference and the composition from ops, and the layer.</summary>
public sealed class FewSpikeNeuronTests
{
    [Property(Arbitrary = new[] { typeof(ParallelNeuronGenerators) }, MaxTest = 80)]
    public void Random_problems_match_the_double_reference(FewSpikeCase c) => Check(c);

    [Theory]
    [InlineData("Sigmoid")]
    [InlineData("ATan")]
    [InlineData("PiecewiseQuadratic")]
    [InlineData("SoftSign")]
    [InlineData("Erf")]
    [InlineData("PiecewiseLeakyReLU")]
    [InlineData("Rect")]
    public void Every_surrogate_matches_the_double_reference(string surrogate) => Check(new FewSpikeCase([6, 3, 70], surrogate, 13));

    [Theory]
    [InlineData(4, 1, 4096 + 5)] // a full block and a partial one ending in a vector tail
    [InlineData(8, 3, 4096)] // three whole blocks
    [InlineData(2, 1, 1)]
    [InlineData(1, 7, 17)] // K = 1
    [InlineData(5, 2, 15)]
    public void Block_and_vector_edges_match_the_double_reference(int k, int rows, int rowLength) => Check(new FewSpikeCase([k, rows, rowLength], "ATan", 21));

    [Theory]
    [InlineData("Sigmoid")]
    [InlineData("Erf")]
    public void The_fused_op_matches_its_composition_from_ops(string surrogate)
    {
        var c = new FewSpikeCase([8, 4, 33], surrogate, 4);
        var (theta, h, d, x, g) = c.Inputs();
        var fused = ParallelNeuronHarness.FewSpike(theta, h, d, c.CreateSurrogate(), x, g, c.Shape);
        var composed = ParallelNeuronHarness.FewSpike(theta, h, d, c.CreateSurrogate(), x, g, c.Shape, composed: true);
        // Both sum the steps in order and subtract h·z, so u and the outputs agree bit for bit.
        Reference.AssertBitwise(composed.Output, fused.Output, "y");
        Golden.AssertClose(Array.ConvertAll(composed.GradX, v => (double)v), fused.GradX, "dL/dx", rel: 1e-5, abs: 1e-6);
    }

    [Fact]
    public void The_layer_computes_the_op_counts_the_internal_spikes_and_keeps_no_output_bits()
    {
        var c = new FewSpikeCase([4, 5, 9], "Sigmoid", 8);
        var (theta, h, d, x, g) = c.Inputs();
        var run = ParallelNeuronHarness.FewSpike(theta, h, d, c.CreateSurrogate(), x, g, c.Shape);
        using var layer = new FewSpikeNeuron(theta, h, d) { CountSpikes = true, KeepLastSpikes = true };
        Assert.Equal(new[] { "theta", "h", "d" }, layer.StateDict().Select(e => e.Name).ToArray());
        using var input = Variable.Constant(Tensor.FromSpan(x, c.Shape));
        using var output = layer.Forward(input);
        Assert.Equal(run.Output, output.Dense.ToArray());
        long spikes = 0;
        foreach (float z in run.Spikes!) spikes += z != 0 ? 1 : 0;
        Assert.Equal(spikes, layer.SpikeCount);
        Assert.Equal(x.Length, layer.NeuronSteps);
        Assert.Null(layer.LastSpikes);
        Assert.Equal("y", layer.OutputName);
        using var traced = layer.Forward(input, out var traces);
        using (traces)
        {
            Assert.Equal(c.Shape, traces["spike"].Shape);
            Assert.Equal(c.Shape, traces["h"].Shape);
            Assert.Equal(c.Shape.DropLeading(), traces["gate"].Shape);
        }
        Assert.Equal("FewSpikeNode(K=4, surrogate=Sigmoid(alpha=4))", layer.ToString());
    }

    [Fact]
    public void An_input_of_time_alone_is_one_neuron_as_in_SpikingJelly()
    {
        var c = new FewSpikeCase([5, 7], "ATan", 17);
        var (theta, h, d, x, g) = c.Inputs();
        var columns = ParallelNeuronHarness.FewSpike(theta, h, d, c.CreateSurrogate(), x, g, c.Shape);
        var single = new float[5];
        var gradient = new float[5];
        for (int t = 0; t < 5; t++) (single[t], gradient[t]) = (x[t * 7 + 3], g[t * 7 + 3]);
        var run = ParallelNeuronHarness.FewSpike(theta, h, d, c.CreateSurrogate(), single, gradient, new Shape(5));
        for (int t = 0; t < 5; t++)
        {
            Assert.Equal(columns.Output[t * 7 + 3], run.Output[t]);
            Assert.Equal(columns.GradX[t * 7 + 3], run.GradX[t]);
        }
        Assert.Equal(columns.Gate![3], Assert.Single(run.Gate!));
    }

    [Fact]
    public void An_input_whose_time_length_is_not_K_is_refused_naming_both()
    {
        using var layer = new FewSpikeNeuron([1f, 0.5f, 0.25f], [1f, 0.5f, 0.25f], [1f, 0.5f, 0.25f]);
        using var x = Variable.Constant(Tensor.Zeros(4, 2));
        var error = Assert.Throws<ArgumentException>(() => layer.Forward(x));
        Assert.Contains("a table of K = 3 entries, but the input has time length 4 (shape [4, 2])", error.Message, StringComparison.Ordinal);
        using var theta = Tensor.FromArray([1f, 0.5f, 0.25f], 3);
        var opError = Assert.Throws<ArgumentException>(() => Functional.FewSpike(x, theta, theta, theta, new Sigmoid()));
        Assert.Equal("xSeq", opError.ParamName);
        Assert.Contains("the input's time length is 4 (shape [4, 2]), but the table has K = 3 entries", opError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_table_that_is_not_K_finite_values_each_is_refused_naming_the_list()
    {
        var length = Assert.Throws<ArgumentException>(() => new FewSpikeNeuron([1f, 0.5f], [1f], [1f, 2f]));
        Assert.Equal("h", length.ParamName);
        Assert.Contains("one length K; got 2, 1 and 2", length.Message, StringComparison.Ordinal);
        var empty = Assert.Throws<ArgumentException>(() => new FewSpikeNeuron([], [], []));
        Assert.Equal("theta", empty.ParamName);
        var nan = Assert.Throws<ArgumentException>(() => new FewSpikeNeuron([1f, 0.5f], [1f, 0.5f], [1f, float.NaN]));
        Assert.Equal("d", nan.ParamName);
        Assert.Contains("d[1] is NaN", nan.Message, StringComparison.Ordinal);
        using var x = Variable.Constant(Tensor.Zeros(2, 3));
        using var two = Tensor.FromArray([1f, 0.5f], 2);
        using var three = Tensor.FromArray([1f, 0.5f, 0.25f], 3);
        using var matrix = Tensor.Zeros(2, 1);
        var opLength = Assert.Throws<ArgumentException>(() => Functional.FewSpike(x, two, two, three, new Sigmoid()));
        Assert.Equal("d", opLength.ParamName);
        var opRank = Assert.Throws<ArgumentException>(() => Functional.FewSpike(x, matrix, two, two, new Sigmoid()));
        Assert.Contains("'theta' must be a non-empty vector [K]; got shape [2, 1]", opRank.Message, StringComparison.Ordinal);
    }

    internal static void Check(FewSpikeCase c)
    {
        var (theta, h, d, x, g) = c.Inputs();
        var expected = ParallelNeuronReference.FewSpike(theta, h, d, c.CreateSurrogate(), x, g);
        var run = ParallelNeuronHarness.FewSpike(theta, h, d, c.CreateSurrogate(), x, g, c.Shape);
        for (int i = 0; i < expected.Z.Length; i++)
        {
            if ((expected.Z[i] ? 1f : 0f) != run.Spikes![i])
            {
                throw new Xunit.Sdk.XunitException($"{c}: spike {i} is {run.Spikes[i]}, expected {expected.Z[i]} (u {expected.U[i]:G9}).");
            }
        }
        Golden.AssertClose(expected.Y, run.Output, $"{c} y", rel: 0, abs: 0);
        Golden.AssertClose(expected.Gate, run.Gate!, $"{c} gate", rel: 1e-5, abs: 1e-5);
        Golden.AssertClose(expected.U, run.H!, $"{c} u", rel: 1e-5, abs: 1e-5);
        Golden.AssertClose(expected.GradX, run.GradX, $"{c} dL/dx", rel: 1e-4, abs: 1e-5);
    }
}
