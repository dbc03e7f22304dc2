using System;
using FsCheck.Xunit;
using Spiking.Autograd;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Autograd;

public sealed class SpikeOpTests
{
    [Property(Arbitrary = new[] { typeof(SmallGenerators) }, MaxTest = 50)]
    public void SpikesToDense_unpacks_and_passes_the_gradient_straight_through(SpikeTrainCase c)
    {
        var dense = c.Dense();
        using var u = Variable.Parameter(Tensor.FromSpan(ShapeOpTests.Shifted(dense), new Shape(c.Dims)));
        using var spikes = SpikeSourceNode.Apply(u);
        Assert.True(spikes.IsSpikes);
        using var y = Functional.SpikesToDense(spikes);
        Assert.False(y.IsSpikes);
        Assert.Equal(dense, y.Dense.ToArray());
        var g = new TensorCase(c.Dims, c.Seed + 5);
        using var seed = g.Create();
        y.Backward(seed);
        Assert.Equal(g.Values(), u.Grad!.ToArray());
    }

    [Property(Arbitrary = new[] { typeof(SmallGenerators) }, MaxTest = 80)]
    public void MeanOverTime_on_spikes_equals_the_dense_path_on_the_same_bits(SpikeTrainCase c)
    {
        var dense = c.Dense();
        using var u = Variable.Parameter(Tensor.FromSpan(ShapeOpTests.Shifted(dense), new Shape(c.Dims)));
        using var spikes = SpikeSourceNode.Apply(u);
        using var d = Variable.Parameter(Tensor.FromSpan(dense, new Shape(c.Dims)));
        using var fromSpikes = Functional.MeanOverTime(spikes);
        using var fromDense = Functional.MeanOverTime(d);
        Assert.Equal(new Shape(c.B, c.N), fromSpikes.Shape);
        Reference.AssertBitwise(fromDense.Dense.AsReadOnlySpan(), fromSpikes.Dense.AsReadOnlySpan(), $"{c} rates");
        // The rate is the count of spikes over T.
        var rates = fromSpikes.Dense.AsReadOnlySpan();
        for (int i = 0; i < c.B * c.N; i++)
        {
            int count = 0;
            for (int t = 0; t < c.T; t++) count += dense[t * c.B * c.N + i] == 1f ? 1 : 0;
            Assert.True(Math.Abs(rates[i] - (double)count / c.T) < 1e-6, $"{c}: element {i} rate {rates[i]} for {count} spikes");
        }
        var g = new TensorCase([c.B, c.N], c.Seed + 1);
        using (var seed = g.Create()) fromSpikes.Backward(seed);
        using (var seed = g.Create()) fromDense.Backward(seed);
        Reference.AssertBitwise(d.Grad!.AsReadOnlySpan(), u.Grad!.AsReadOnlySpan(), $"{c} gradient w.r.t. the spikes");
    }

    [Property(Arbitrary = new[] { typeof(SmallGenerators) }, MaxTest = 60)]
    public void Sum_and_mean_of_spikes_count_the_bits_and_equal_the_dense_path(SpikeTrainCase c)
    {
        var dense = c.Dense();
        int spikeCount = 0;
        foreach (float v in dense) spikeCount += v == 1f ? 1 : 0;
        foreach (bool mean in new[] { false, true })
        {
            using var u = Variable.Parameter(Tensor.FromSpan(ShapeOpTests.Shifted(dense), new Shape(c.Dims)));
            using var d = Variable.Parameter(Tensor.FromSpan(dense, new Shape(c.Dims)));
            using var spikes = SpikeSourceNode.Apply(u);
            using var fromSpikes = mean ? Functional.Mean(spikes) : Functional.Sum(spikes);
            using var fromDense = mean ? Functional.Mean(d) : Functional.Sum(d);
            Assert.Equal(new Shape(), fromSpikes.Shape);
            float expected = mean ? (float)((double)spikeCount / dense.Length) : spikeCount;
            Assert.Equal(expected, fromSpikes.Dense.ToScalar());
            Assert.True(Math.Abs(fromDense.Dense.ToScalar() - expected) <= 1e-6 * Math.Max(1, expected), $"{c}: dense {fromDense.Dense.ToScalar()}, spikes {expected}");
            using (var seed = Tensor.Scalar(1.5f)) fromSpikes.Backward(seed);
            using (var seed = Tensor.Scalar(1.5f)) fromDense.Backward(seed);
            // The gradient with respect to the spikes is dense, the same as that of the float 0/1 tensor.
            Reference.AssertBitwise(d.Grad!.AsReadOnlySpan(), u.Grad!.AsReadOnlySpan(), $"{c} gradient of the {(mean ? "mean" : "sum")} w.r.t. the spikes");
        }
    }

    [Fact]
    public void Sum_of_spikes_is_an_integer_count_and_a_reduction_along_an_axis_still_needs_floats()
    {
        // 2^24 + 64 spikes: counted as an integer, then rounded once to float (exactly, as the count is even).
        int n = (1 << 24) + 64;
        using var ones = Tensor.Full(new Shape(n), 1f);
        using var spikes = Variable.Constant(SpikeTensor.FromBinary(ones));
        using var sum = Functional.Sum(spikes);
        Assert.Equal((float)n, sum.Dense.ToScalar());
        Assert.False(sum.RequiresGrad);
        var e = Assert.Throws<ArgumentException>(() => Functional.Sum(spikes, 0));
        Assert.Contains("SpikesToDense", e.Message, StringComparison.Ordinal);
    }

    [Property(Arbitrary = new[] { typeof(SmallGenerators) }, MaxTest = 25)]
    public void MeanOverTime_gradient(TensorCase c)
    {
        GradAssert.Passes(v => Functional.MeanOverTime(v[0]), $"mean over time {c}", c.Create());
    }

    [Fact]
    public void MeanOverTime_of_a_single_spike_row_is_a_scalar_rate()
    {
        using var dense = Tensor.FromArray([1f, 0f, 1f, 1f, 0f], 5);
        using var s = Variable.Constant(SpikeTensor.FromBinary(dense));
        using var rate = Functional.MeanOverTime(s);
        Assert.Equal(new Shape(), rate.Shape);
        Assert.Equal(3f * (1f / 5f), rate.Dense.ToScalar());
    }

    [Fact]
    public void Spike_ops_reject_bad_input()
    {
        using var dense = Variable.Parameter(Tensor.Zeros(2, 3));
        var e = Assert.Throws<ArgumentException>(() => Functional.SpikesToDense(dense));
        Assert.Equal("x", e.ParamName);
        Assert.Contains("[2, 3]", e.Message, StringComparison.Ordinal);
        using var scalar = Variable.Parameter(Tensor.Scalar(1f));
        var s = Assert.Throws<ArgumentException>(() => Functional.MeanOverTime(scalar));
        Assert.Contains("[T, ...]", s.Message, StringComparison.Ordinal);
        using var empty = Variable.Constant(SpikeTensor.Zeros(0, 4));
        Assert.Throws<ArgumentException>(() => Functional.MeanOverTime(empty));
    }
}
