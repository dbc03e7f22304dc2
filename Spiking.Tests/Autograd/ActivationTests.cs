using System;
using FsCheck.Xunit;
using Spiking.Autograd;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Autograd;

public sealed class ActivationTests
{
    private static readonly (string Name, Func<Variable, Variable> Op, Func<double, double> Reference)[] s_unary =
    [
        ("Exp", Functional.Exp, Math.Exp),
        ("Sigmoid", Functional.Sigmoid, x => 1 / (1 + Math.Exp(-x))),
        ("Tanh", Functional.Tanh, Math.Tanh),
        ("Relu", Functional.Relu, x => Math.Max(x, 0)),
    ];

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 40)]
    public void Unary_forward_matches_double(TensorCase c)
    {
        var x = c.Values();
        foreach (var (name, op, reference) in s_unary)
        {
            using var v = Variable.Constant(c.Create());
            using var y = op(v);
            Assert.Equal(c.Shape, y.Shape);
            var expected = new double[x.Length];
            for (int i = 0; i < x.Length; i++) expected[i] = reference(x[i]);
            Reference.AssertClose(expected, y.Dense.AsReadOnlySpan(), default, 4e-7, 1e-7, $"{name} {c}");
        }
        using var p = Variable.Constant(GradAssert.Positive(c, 1e-3f));
        using var log = Functional.Log(p);
        var positive = p.Dense.ToArray();
        var logExpected = new double[x.Length];
        for (int i = 0; i < x.Length; i++) logExpected[i] = Math.Log(positive[i]);
        Reference.AssertClose(logExpected, log.Dense.AsReadOnlySpan(), default, 4e-7, 1e-7, $"Log {c}");
    }

    [Property(Arbitrary = new[] { typeof(SmallGenerators) }, MaxTest = 25)]
    public void Unary_gradients(TensorCase c)
    {
        GradAssert.Passes(v => Functional.Exp(v[0]), $"exp {c}", c.Create());
        GradAssert.Passes(v => Functional.Sigmoid(v[0]), $"sigmoid {c}", c.Create());
        GradAssert.Passes(v => Functional.Tanh(v[0]), $"tanh {c}", c.Create());
        GradAssert.Passes(v => Functional.Log(v[0]), $"log {c}", GradAssert.Positive(c, 0.5f));
        // Keep ReLU inputs further from 0 than the finite-difference step.
        GradAssert.Passes(v => Functional.Relu(v[0]), $"relu {c}", GradAssert.AwayFromZero(c, 0.1f));
    }

    [Fact]
    public void Relu_gradient_is_exactly_the_output_gradient_where_x_is_positive_and_zero_elsewhere()
    {
        float[] x = [-2f, -0f, 0f, float.Epsilon, 1e-30f, 3f, -1e-30f, float.NaN, 70f];
        using var v = Variable.Parameter(Tensor.FromArray(x, 9));
        using var y = Functional.Relu(v);
        var g = new float[] { 1.5f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f };
        using var seed = Tensor.FromArray(g, 9);
        y.Backward(seed);
        Assert.Equal([0f, 0f, 0f, 4f, 5f, 6f, 0f, 0f, 9f], v.Grad!.ToArray());
    }

    [Fact]
    public void Relu_of_a_scalar_saves_a_one_bit_mask()
    {
        GradAssert.Passes(v => Functional.Relu(v[0]), "relu scalar positive", Tensor.Scalar(0.7f));
        GradAssert.Passes(v => Functional.Relu(v[0]), "relu scalar negative", Tensor.Scalar(-0.7f));
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 30)]
    public void Softmax_and_LogSoftmax_match_double_along_any_axis(TensorCase c)
    {
        int axis = c.Seed % c.Dims.Length;
        var x = c.Values();
        using var v = Variable.Constant(c.Create());
        using var soft = Functional.Softmax(v, axis);
        using var logSoft = Functional.LogSoftmax(v, axis - c.Dims.Length);
        Reference.AssertClose(Reference.Softmax(x, c.Dims, axis, log: false), soft.Dense.AsReadOnlySpan(), default, 2e-6, 1e-7, $"softmax {c} axis {axis}");
        Reference.AssertClose(Reference.Softmax(x, c.Dims, axis, log: true), logSoft.Dense.AsReadOnlySpan(), default, 2e-6, 2e-6, $"log softmax {c} axis {axis}");
        // Each slice along the axis sums to 1.
        using var sums = Functional.Sum(soft, axis);
        foreach (float s in sums.Dense.AsReadOnlySpan()) Assert.True(Math.Abs(s - 1) < 1e-5, $"{c}: a softmax slice sums to {s}");
    }

    [Property(Arbitrary = new[] { typeof(SmallGenerators) }, MaxTest = 25)]
    public void Softmax_and_LogSoftmax_gradients_along_any_axis(TensorCase c)
    {
        int axis = c.Seed % c.Dims.Length;
        GradAssert.Passes(v => Functional.Softmax(v[0], axis), $"softmax {c} axis {axis}", c.Create());
        GradAssert.Passes(v => Functional.LogSoftmax(v[0], axis), $"log softmax {c} axis {axis}", c.Create());
        GradAssert.Passes(v => Functional.Softmax(v[0]), $"softmax {c} last axis", c.Create());
        GradAssert.Passes(v => Functional.LogSoftmax(v[0]), $"log softmax {c} last axis", c.Create());
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(0)]
    public void Softmax_of_huge_logits_is_finite_and_equals_that_of_the_shifted_logits(int axis)
    {
        float[] small = [0.5f, -1f, 2f, 0f, 1f, 3f];
        var huge = new float[small.Length];
        for (int i = 0; i < huge.Length; i++) huge[i] = small[i] + 1e4f;
        huge[0] = -1e4f;
        small[0] = -2e4f;
        using var h = Variable.Parameter(Tensor.FromArray(huge, 2, 3));
        using var s = Variable.Constant(Tensor.FromArray(small, 2, 3));
        using var hs = Functional.Softmax(h, axis);
        using var ss = Functional.Softmax(s, axis);
        using var hl = Functional.LogSoftmax(h, axis);
        using var sl = Functional.LogSoftmax(s, axis);
        foreach (float value in hs.Dense.AsReadOnlySpan()) Assert.False(float.IsNaN(value) || float.IsInfinity(value));
        foreach (float value in hl.Dense.AsReadOnlySpan()) Assert.False(float.IsNaN(value));
        GradAssert.Close(ss.Dense.AsReadOnlySpan(), hs.Dense.AsReadOnlySpan(), 1e-6, "softmax of shifted logits");
        // Away from the -1e4 outlier the log-probabilities keep their exact differences.
        var a = hl.Dense.ToArray();
        var b = sl.Dense.ToArray();
        for (int i = 1; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) < 1e-5, $"log softmax element {i}: {a[i]} vs {b[i]}");
        using var loss = Functional.Sum(hl * hs);
        loss.Backward();
        foreach (float g in h.Grad!.AsReadOnlySpan()) Assert.False(float.IsNaN(g));
    }

    [Fact]
    public void Activations_reject_spikes_and_softmax_checks_its_axis()
    {
        using var spikes = Variable.Constant(SpikeTensor.Zeros(2, 3));
        foreach (var op in new Func<Variable, Variable>[]
        {
            Functional.Exp, Functional.Log, Functional.Sigmoid, Functional.Tanh, Functional.Relu,
            x => Functional.Softmax(x), x => Functional.LogSoftmax(x),
        })
        {
            var e = Assert.Throws<ArgumentException>(() => op(spikes));
            Assert.Equal("x", e.ParamName);
            Assert.Contains("spikes of shape [2, 3]", e.Message, StringComparison.Ordinal);
        }
        using var x = Variable.Parameter(Tensor.Zeros(2, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => Functional.Softmax(x, 2));
        using var scalar = Variable.Parameter(Tensor.Scalar(1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => Functional.LogSoftmax(scalar));
    }
}
