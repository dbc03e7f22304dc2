using System;
using FsCheck.Xunit;
using Spiking.Autograd;
using Spiking.Tensors;
using Spiking.Tests.Tensors;
using Xunit;

namespace Spiking.Tests.Autograd;

public sealed class ShapeOpTests
{
    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 40)]
    public void Sum_and_Mean_of_everything_match_double(TensorCase c)
    {
        var x = c.Values();
        double sum = 0, scale = 0;
        foreach (float v in x)
        {
            sum += v;
            scale += Math.Abs(v);
        }
        using var input = Variable.Constant(c.Create());
        using var s = Functional.Sum(input);
        using var m = Functional.Mean(input);
        Assert.Equal(new Shape(), s.Shape);
        Assert.Equal(new Shape(), m.Shape);
        Reference.AssertClose([sum], s.Dense.AsReadOnlySpan(), [scale], 1e-6, 1e-6, $"sum {c}");
        Reference.AssertClose([sum / x.Length], m.Dense.AsReadOnlySpan(), [scale / x.Length], 1e-6, 1e-6, $"mean {c}");
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 40)]
    public void Sum_and_Mean_along_an_axis_match_double(TensorCase c)
    {
        int axis = c.Seed % c.Dims.Length;
        var (sum, scale) = Reference.ReduceAxis(c.Values(), c.Dims, axis, (a, b) => a + b);
        var mean = new double[sum.Length];
        var meanScale = new double[sum.Length];
        for (int i = 0; i < sum.Length; i++)
        {
            mean[i] = sum[i] / c.Dims[axis];
            meanScale[i] = scale[i] / c.Dims[axis];
        }
        using var input = Variable.Constant(c.Create());
        foreach (bool keep in new[] { false, true })
        {
            using var s = Functional.Sum(input, axis - c.Dims.Length, keep);
            using var m = Functional.Mean(input, axis, keep);
            Assert.Equal(new Shape(Reference.Reduced(c.Dims, axis, keep)), s.Shape);
            Assert.Equal(s.Shape, m.Shape);
            Reference.AssertClose(sum, s.Dense.AsReadOnlySpan(), scale, 1e-6, 1e-6, $"sum {c} axis {axis}");
            Reference.AssertClose(mean, m.Dense.AsReadOnlySpan(), meanScale, 1e-6, 1e-6, $"mean {c} axis {axis}");
        }
    }

    [Property(Arbitrary = new[] { typeof(SmallGenerators) }, MaxTest = 25)]
    public void Reduction_gradients(TensorCase c)
    {
        int axis = c.Seed % c.Dims.Length;
        GradAssert.Passes(v => Functional.Sum(v[0]), $"sum {c}", c.Create());
        GradAssert.Passes(v => Functional.Mean(v[0]), $"mean {c}", c.Create());
        foreach (bool keep in new[] { false, true })
        {
            GradAssert.Passes(v => Functional.Sum(v[0], axis, keep), $"sum {c} axis {axis} keep {keep}", c.Create());
            GradAssert.Passes(v => Functional.Mean(v[0], -1, keep), $"mean {c} last axis keep {keep}", c.Create());
        }
    }

    [Fact]
    public void Mean_of_an_empty_tensor_is_NaN_and_its_sum_is_zero()
    {
        using var x = Variable.Parameter(Tensor.Zeros(0, 3));
        using var m = Functional.Mean(x);
        Assert.True(float.IsNaN(m.Dense.ToScalar()));
        using var s = Functional.Sum(x, 0);
        Assert.Equal([0f, 0f, 0f], s.Dense.ToArray());
    }

    [Property(Arbitrary = new[] { typeof(SmallGenerators) }, MaxTest = 25)]
    public void Reshape_is_a_view_whose_gradient_is_reshaped_back(TensorCase c)
    {
        using var x = Variable.Constant(c.Create());
        using var flat = Functional.Reshape(x, -1);
        Assert.Equal(new Shape(c.Shape.ElementCount), flat.Shape);
        Assert.Equal(c.Values(), flat.Dense.ToArray());
        flat.Dense.AsSpan()[0] = 1234f;
        Assert.Equal(1234f, x.Dense.AsReadOnlySpan()[0]);
        // GradCheck projects the output with random weights, so an element reshaped to the wrong place would show.
        var dims = new[] { c.Dims[^1], -1 };
        GradAssert.Passes(v => Functional.Reshape(v[0], dims) * 3f, $"reshape {c}", c.Create());
    }

    [Fact]
    public void Reshape_of_spikes_views_or_repacks_the_bits()
    {
        var train = new SpikeTrainCase(3, 2, 70, 0.3, 9);
        using var u = Variable.Parameter(Tensor.FromSpan(Shifted(train.Dense()), new Shape(3, 2, 70)));
        using var spikes = SpikeSourceNode.Apply(u);
        using var folded = Functional.Reshape(spikes, 6, 70);
        Assert.True(folded.IsSpikes);
        Assert.Equal(new Shape(6, 70), folded.Shape);
        using var dense = folded.ToDense();
        Assert.Equal(train.Dense(), dense.ToArray());
        using var repacked = Functional.Reshape(spikes, 3, 140);
        Assert.True(repacked.IsSpikes);
        using (var repackedDense = repacked.ToDense()) Assert.Equal(train.Dense(), repackedDense.ToArray());
        Assert.Throws<ArgumentException>(() => Functional.Reshape(spikes, 3, 141));
        using var loss = Functional.Sum(Functional.SpikesToDense(folded) * 2f);
        loss.Backward();
        Assert.Equal(new Shape(3, 2, 70), u.Grad!.Shape);
        Assert.All(u.Grad.ToArray(), g => Assert.Equal(2f, g));
    }

    [Property(Arbitrary = new[] { typeof(SmallGenerators) }, MaxTest = 40)]
    public void Permute_and_Transpose_forward_and_gradients(TensorCase c)
    {
        var axes = PermuteConcatTests.RandomPermutation(c.Dims.Length, c.Seed);
        using (var x = Variable.Constant(c.Create()))
        using (var y = Functional.Permute(x, axes))
        {
            Reference.AssertBitwise(Reference.Permute(c.Values(), c.Dims, axes), y.Dense.AsReadOnlySpan(), $"permute {c}");
        }
        GradAssert.Passes(v => Functional.Permute(v[0], axes), $"permute {c} by {Shape.Format(axes)}", c.Create());
        int a0 = c.Seed % c.Dims.Length, a1 = (c.Seed / 7) % c.Dims.Length;
        var swap = new int[c.Dims.Length];
        for (int i = 0; i < swap.Length; i++) swap[i] = i;
        (swap[a0], swap[a1]) = (a1, a0);
        using (var x = Variable.Constant(c.Create()))
        using (var y = Functional.Transpose(x, a0, a1 - c.Dims.Length))
        {
            Reference.AssertBitwise(Reference.Permute(c.Values(), c.Dims, swap), y.Dense.AsReadOnlySpan(), $"transpose {c} {a0}<->{a1}");
        }
        GradAssert.Passes(v => Functional.Transpose(v[0], a0, a1), $"transpose {c} {a0}<->{a1}", c.Create());
    }

    [Property(Arbitrary = new[] { typeof(SmallGenerators) }, MaxTest = 25)]
    public void Concat_forward_and_gradients_of_every_input(TensorCase c)
    {
        int axis = c.Seed % c.Dims.Length;
        var cases = new TensorCase[3];
        for (int i = 0; i < 3; i++)
        {
            var dims = (int[])c.Dims.Clone();
            dims[axis] = 1 + (c.Dims[axis] + i) % 3;
            cases[i] = new TensorCase(dims, c.Seed + i);
        }
        using (var a = Variable.Constant(cases[0].Create()))
        using (var b = Variable.Constant(cases[1].Create()))
        using (var d = Variable.Constant(cases[2].Create()))
        using (var y = Functional.Concat([a, b, d], axis))
        {
            var (dims, expected) = Reference.Concat([cases[0].Values(), cases[1].Values(), cases[2].Values()],
                [cases[0].Dims, cases[1].Dims, cases[2].Dims], axis);
            Assert.Equal(new Shape(dims), y.Shape);
            Reference.AssertBitwise(expected, y.Dense.AsReadOnlySpan(), $"concat {c}");
        }
        GradAssert.Passes(v => Functional.Concat([v[0], v[1], v[2]], axis), $"concat {c} along {axis}",
            cases[0].Create(), cases[1].Create(), cases[2].Create());
        // The same input twice: both slices add into its gradient.
        GradAssert.Passes(v => Functional.Concat([v[0], v[1], v[0]], -c.Dims.Length + axis), $"concat {c} reusing an input",
            cases[0].Create(), cases[1].Create());
    }

    [Property(Arbitrary = new[] { typeof(SmallGenerators) }, MaxTest = 25)]
    public void Stack_gradients_of_every_input(TensorCase c)
    {
        int axis = c.Seed % (c.Dims.Length + 1);
        var other = new TensorCase(c.Dims, c.Seed + 1);
        GradAssert.Passes(v => Functional.Stack([v[0], v[1], v[0]], axis), $"stack {c} along {axis}", c.Create(), other.Create());
        GradAssert.Passes(v => Functional.Stack([v[0], v[1]], -1), $"stack {c} along -1", c.Create(), other.Create());
    }

    [Fact]
    public void Stack_forward_places_each_input_at_its_index()
    {
        using var a = Variable.Constant(Tensor.FromArray([1f, 2f, 3f], 3));
        using var b = Variable.Constant(Tensor.FromArray([4f, 5f, 6f], 3));
        using var rows = Functional.Stack([a, b]);
        Assert.Equal(new Shape(2, 3), rows.Shape);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], rows.Dense.ToArray());
        using var cols = Functional.Stack([a, b], 1);
        Assert.Equal(new Shape(3, 2), cols.Shape);
        Assert.Equal([1f, 4f, 2f, 5f, 3f, 6f], cols.Dense.ToArray());
    }

    [Theory]
    [InlineData(new[] { 4, 3 }, -1)]
    [InlineData(new[] { 2, 3, 2, 2 }, 1)]
    [InlineData(new[] { 3, 5 }, 0)]
    [InlineData(new[] { 2, 2, 3 }, 2)]
    [InlineData(new[] { 7 }, 0)]
    public void BiasAdd_adds_along_the_channel_axis(int[] dims, int axis)
    {
        var xc = new TensorCase(dims, 11);
        int a = axis < 0 ? axis + dims.Length : axis;
        var bc = new TensorCase([dims[a]], 12);
        var x = xc.Values();
        var b = bc.Values();
        using (var xv = Variable.Constant(xc.Create()))
        using (var bv = Variable.Constant(bc.Create()))
        using (var y = Functional.BiasAdd(xv, bv, axis))
        {
            var expected = new double[x.Length];
            for (int i = 0; i < x.Length; i++) expected[i] = (double)x[i] + b[Reference.Unravel(i, dims)[a]];
            Reference.AssertRounded(expected, y.Dense.AsReadOnlySpan(), $"bias add {Shape.Format(dims)} axis {axis}");
        }
        GradAssert.Passes(v => Functional.BiasAdd(v[0], v[1], axis), $"bias add {Shape.Format(dims)} axis {axis}", xc.Create(), bc.Create());
    }

    [Fact]
    public void BiasAdd_names_the_bias_and_both_shapes()
    {
        using var x = Variable.Parameter(Tensor.Zeros(2, 3, 4, 4));
        using var b = Variable.Parameter(Tensor.Zeros(4));
        var e = Assert.Throws<ArgumentException>(() => Functional.BiasAdd(x, b, 1));
        Assert.Equal("bias", e.ParamName);
        Assert.Contains("[4]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[2, 3, 4, 4]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[3]", e.Message, StringComparison.Ordinal);
        using var ok = Functional.BiasAdd(x, b);
        Assert.Equal(x.Shape, ok.Shape);
        using var matrix = Variable.Parameter(Tensor.Zeros(4, 1));
        Assert.Throws<ArgumentException>(() => Functional.BiasAdd(x, matrix));
        Assert.Throws<ArgumentOutOfRangeException>(() => Functional.BiasAdd(x, b, 4));
    }

    [Fact]
    public void Shape_ops_reject_bad_arguments_naming_them()
    {
        using var x = Variable.Parameter(Tensor.Zeros(2, 3));
        using var y = Variable.Parameter(Tensor.Zeros(3, 3));
        using var spikes = Variable.Constant(SpikeTensor.Zeros(2, 3));
        var r = Assert.Throws<ArgumentException>(() => Functional.Reshape(x, 4, 2));
        Assert.Contains("[2, 3]", r.Message, StringComparison.Ordinal);
        Assert.Contains("[4, 2]", r.Message, StringComparison.Ordinal);
        var p = Assert.Throws<ArgumentException>(() => Functional.Permute(x, 0, 0));
        Assert.Contains("[2, 3]", p.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => Functional.Transpose(x, 0, 2));
        var c = Assert.Throws<ArgumentException>(() => Functional.Concat([x, y], 1));
        Assert.Contains("[3, 3]", c.Message, StringComparison.Ordinal);
        Assert.Contains("[2, 3]", c.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Functional.Stack([x, y]));
        Assert.Throws<ArgumentException>(() => Functional.Concat(Array.Empty<Variable>(), 0));
        foreach (var op in new Func<Variable>[]
        {
            () => Functional.Sum(spikes, 1), () => Functional.Mean(spikes, 0), () => Functional.Permute(spikes, 1, 0),
            () => Functional.Transpose(spikes, 0, 1), () => Functional.BiasAdd(spikes, x),
        })
        {
            var e = Assert.Throws<ArgumentException>(op);
            Assert.Equal("x", e.ParamName);
            Assert.Contains("spikes", e.Message, StringComparison.Ordinal);
        }
        var s = Assert.Throws<ArgumentException>(() => Functional.Concat([x, spikes], 0));
        Assert.Equal("xs[1]", s.ParamName);
        Assert.Equal("xs[1]", Assert.Throws<ArgumentException>(() => Functional.Stack([x, spikes])).ParamName);
    }

    /// <summary>0/1 values moved to ±0.5 so a threshold at 0 gives back exactly the 1s.</summary>
    internal static float[] Shifted(float[] binary)
    {
        var u = new float[binary.Length];
        for (int i = 0; i < u.Length; i++) u[i] = binary[i] - 0.5f;
        return u;
    }
}
