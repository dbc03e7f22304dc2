using System;
using System.Collections.Generic;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Tensors;

public sealed class TensorMathTests
{
    private static readonly (string Name, Func<Tensor, Tensor, Tensor> Op, Func<double, double, double> Reference)[] s_binary =
    [
        ("add", (a, b) => a.Add(b), (x, y) => x + y),
        ("subtract", (a, b) => a.Subtract(b), (x, y) => x - y),
        ("multiply", (a, b) => a.Multiply(b), (x, y) => x * y),
        ("divide", (a, b) => a.Divide(b), (x, y) => x / y),
        ("maximum", (a, b) => a.Maximum(b), Math.Max),
        ("minimum", (a, b) => a.Minimum(b), Math.Min),
        ("operator +", (a, b) => a + b, (x, y) => x + y),
        ("operator -", (a, b) => a - b, (x, y) => x - y),
        ("operator *", (a, b) => a * b, (x, y) => x * y),
        ("operator /", (a, b) => a / b, (x, y) => x / y),
    ];

    // Float +, -, *, / of two floats are correctly rounded, and double holds more than 2*24+2 bits, so the
    // double result rounded to float is exactly what the float operation must give.
    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 50)]
    public void Binary_ops_of_the_same_shape_match_double(TensorCase c)
    {
        var other = new TensorCase(c.Dims, c.Seed + 1);
        var x = c.Values();
        var y = other.Values();
        using var a = c.Create();
        using var b = other.Create();
        foreach (var (name, op, reference) in s_binary)
        {
            using var r = op(a, b);
            Assert.Equal(c.Shape, r.Shape);
            var expected = new double[x.Length];
            for (int i = 0; i < x.Length; i++) expected[i] = reference(x[i], y[i]);
            Reference.AssertRounded(expected, r.AsReadOnlySpan(), name);
        }
    }

    [Property(Arbitrary = new[] { typeof(Generators) })]
    public void Binary_ops_broadcast_like_numpy(BroadcastCase c)
    {
        using var a = c.LeftCase.Create();
        using var b = c.RightCase.Create();
        foreach (var (name, op, reference) in s_binary)
        {
            using var r = op(a, b);
            var (dims, expected) = NaiveBroadcast(c.LeftCase.Values(), c.Left, c.RightCase.Values(), c.Right, reference);
            Assert.Equal(new Shape(dims), r.Shape);
            Reference.AssertRounded(expected, r.AsReadOnlySpan(), $"{name} {c}");
            using var swapped = op(b, a);
            var (_, expectedSwapped) = NaiveBroadcast(c.RightCase.Values(), c.Right, c.LeftCase.Values(), c.Left, reference);
            Reference.AssertRounded(expectedSwapped, swapped.AsReadOnlySpan(), $"{name} swapped {c}");
        }
    }

    public static TheoryData<int[], int[]> BroadcastPatterns => new()
    {
        { [5, 7], [7] },                  // bias [N] onto [B, N]
        { [2, 3, 4, 5], [3, 1, 1] },      // per-channel [C, 1, 1] onto [B, C, H, W]
        { [4, 1], [1, 6] },               // outer sum [B, 1] with [1, N]
        { [3, 1], [6] },
        { [2, 3, 4], [] },                // scalar tensor
        { [], [] },
        { [1], [] },
        { [9, 70], [1, 70] },
        { [2, 1, 65], [3, 1] },
        { [1, 1, 1], [4, 5, 6] },
        { [0, 3], [3] },
        { [0, 3], [1, 1] },
    };

    [Theory]
    [MemberData(nameof(BroadcastPatterns))]
    public void Common_broadcast_patterns(int[] left, int[] right)
    {
        var lc = new TensorCase(left, 17);
        var rc = new TensorCase(right, 18);
        using var a = lc.Create();
        using var b = rc.Create();
        foreach (var (name, op, reference) in s_binary)
        {
            var (dims, expected) = NaiveBroadcast(lc.Values(), left, rc.Values(), right, reference);
            using var r = op(a, b);
            Assert.Equal(new Shape(dims), r.Shape);
            Reference.AssertRounded(expected, r.AsReadOnlySpan(), name);
            using var s = op(b, a);
            var (_, swapped) = NaiveBroadcast(rc.Values(), right, lc.Values(), left, reference);
            Reference.AssertRounded(swapped, s.AsReadOnlySpan(), name + " swapped");
        }
    }

    [Theory]
    [InlineData(new[] { 2, 3 }, new[] { 4 })]
    [InlineData(new[] { 5, 7 }, new[] { 5 })]
    [InlineData(new[] { 2, 3, 4 }, new[] { 2, 4, 4 })]
    [InlineData(new[] { 0 }, new[] { 2 })]
    public void Incompatible_shapes_name_both_shapes(int[] left, int[] right)
    {
        using var a = Tensor.Zeros(left);
        using var b = Tensor.Zeros(right);
        foreach (var (name, op, _) in s_binary)
        {
            var e = Assert.Throws<ArgumentException>(() => op(a, b));
            Assert.Contains(Shape.Format(left), e.Message, StringComparison.Ordinal);
            Assert.Contains(Shape.Format(right), e.Message, StringComparison.Ordinal);
        }
        var ip = Assert.Throws<ArgumentException>(() => a.AddInPlace(b));
        Assert.Contains(Shape.Format(left), ip.Message, StringComparison.Ordinal);
        Assert.Contains(Shape.Format(right), ip.Message, StringComparison.Ordinal);
    }

    [Property(Arbitrary = new[] { typeof(Generators) })]
    public void In_place_ops_broadcast_the_argument_onto_this(BroadcastCase c)
    {
        var ops = new (string, Action<Tensor, Tensor>, Func<double, double, double>)[]
        {
            ("add", (t, o) => t.AddInPlace(o), (x, y) => x + y),
            ("subtract", (t, o) => t.SubtractInPlace(o), (x, y) => x - y),
            ("multiply", (t, o) => t.MultiplyInPlace(o), (x, y) => x * y),
        };
        var left = c.LeftCase.Values();
        var right = c.RightCase.Values();
        var (dims, _) = NaiveBroadcast(left, c.Left, right, c.Right, (x, _) => x);
        var full = new TensorCase(dims, c.Seed + 2);
        var target = full.Values();
        foreach (var (name, op, reference) in ops)
        {
            using var t = full.Create();
            using var o = c.RightCase.Create();
            op(t, o);
            Assert.Equal(full.Shape, t.Shape);
            var (_, expected) = NaiveBroadcast(target, dims, right, c.Right, reference);
            Reference.AssertRounded(expected, t.AsReadOnlySpan(), $"{name} in place {c}");
            Reference.AssertBitwise(right, o.AsReadOnlySpan(), "argument left unchanged");

            if (new Shape(c.Left).ElementCount < full.Shape.ElementCount)
            {
                using var small = c.LeftCase.Create();
                using var big = full.Create();
                var e = Assert.Throws<ArgumentException>(() => op(small, big));
                Assert.Contains(small.Shape.ToString(), e.Message, StringComparison.Ordinal);
                Assert.Contains(big.Shape.ToString(), e.Message, StringComparison.Ordinal);
            }
        }
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 50)]
    public void Scalar_ops_and_axpy_match_double(TensorCase c)
    {
        var x = c.Values();
        var y = new TensorCase(c.Dims, c.Seed + 1).Values();
        const float s = -1.75f;
        const float alpha = 0.3f;
        using var t = c.Create();
        using var plus = t.Add(s);
        using var plusOp = t + s;
        using var times = t.Multiply(s);
        using var timesOp = t * s;
        var add = new double[x.Length];
        var mul = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            add[i] = (double)x[i] + s;
            mul[i] = (double)x[i] * s;
        }
        Reference.AssertRounded(add, plus.AsReadOnlySpan(), "add scalar");
        Reference.AssertRounded(add, plusOp.AsReadOnlySpan(), "operator + scalar");
        Reference.AssertRounded(mul, times.AsReadOnlySpan(), "multiply scalar");
        Reference.AssertRounded(mul, timesOp.AsReadOnlySpan(), "operator * scalar");

        using var inPlace = c.Create();
        inPlace.AddInPlace(s);
        Reference.AssertRounded(add, inPlace.AsReadOnlySpan(), "add scalar in place");
        using var scaled = c.Create();
        scaled.MultiplyInPlace(s);
        Reference.AssertRounded(mul, scaled.AsReadOnlySpan(), "multiply scalar in place");

        using var acc = c.Create();
        using var other = new TensorCase(c.Dims, c.Seed + 1).Create();
        acc.AddScaledInPlace(other, alpha);
        var axpy = new double[x.Length];
        var scale = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            axpy[i] = x[i] + (double)alpha * y[i];
            scale[i] = Math.Abs(x[i]) + Math.Abs((double)alpha * y[i]);
        }
        // Two roundings (product, then sum) unless fused: within 2^-24 of each magnitude.
        Reference.AssertClose(axpy, acc.AsReadOnlySpan(), scale, 1.2e-7, 0, "axpy");
    }

    [Fact]
    public void AddScaledInPlace_needs_the_same_shape()
    {
        using var a = Tensor.Zeros(2, 3);
        using var b = Tensor.Zeros(3);
        var e = Assert.Throws<ArgumentException>(() => a.AddScaledInPlace(b, 1f));
        Assert.Contains("[2, 3]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[3]", e.Message, StringComparison.Ordinal);
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 50)]
    public void Exact_unary_ops_match_double(TensorCase c)
    {
        var x = c.Values();
        var ops = new (string, Func<Tensor, Tensor>, Func<double, double>)[]
        {
            ("negate", t => t.Negate(), v => -v),
            ("operator -", t => -t, v => -v),
            ("relu", t => t.Relu(), v => Math.Max(v, 0)),
            ("abs", t => t.Abs(), Math.Abs),
            ("square", t => t.Square(), v => v * v),
        };
        using var t = c.Create();
        foreach (var (name, op, reference) in ops)
        {
            using var r = op(t);
            Assert.Equal(c.Shape, r.Shape);
            Reference.AssertRounded(Map(x, reference), r.AsReadOnlySpan(), name);
        }
        using var positive = t.Abs();
        using var root = positive.Sqrt();
        Reference.AssertRounded(Map(x, v => Math.Sqrt(Math.Abs(v))), root.AsReadOnlySpan(), "sqrt");
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 50)]
    public void Transcendental_unary_ops_match_double(TensorCase c)
    {
        var x = c.Values();
        using var t = c.Create();
        AssertUnary(t.Exp(), Map(x, Math.Exp), "exp");
        AssertUnary(t.Sigmoid(), Map(x, v => 1 / (1 + Math.Exp(-v))), "sigmoid");
        AssertUnary(t.Tanh(), Map(x, Math.Tanh), "tanh");
        using var positive = t.Abs();
        positive.AddInPlace(1e-3f);
        var p = positive.ToArray();
        AssertUnary(positive.Log(), Map(p, Math.Log), "log");
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(-1e-30f)]
    [InlineData(1e-30f)]
    [InlineData(-20f)]
    [InlineData(20f)]
    [InlineData(88f)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void Unary_ops_at_the_edges(float v)
    {
        using var t = Tensor.Full(new Shape(9), v);
        AssertUnary(t.Exp(), Map(t.ToArray(), Math.Exp), "exp");
        AssertUnary(t.Sigmoid(), Map(t.ToArray(), x => 1 / (1 + Math.Exp(-x))), "sigmoid");
        AssertUnary(t.Tanh(), Map(t.ToArray(), Math.Tanh), "tanh");
        using var r = t.Relu();
        Assert.All(r.ToArray(), x => Assert.Equal(Math.Max(v, 0f), x));
    }

    [Fact]
    public void Log_and_sqrt_of_special_values()
    {
        using var t = Tensor.FromArray([0f, -1f, 1f, float.PositiveInfinity], 4);
        using var log = t.Log();
        Assert.Equal(float.NegativeInfinity, log.GetValue(0));
        Assert.True(float.IsNaN(log.GetValue(1)));
        Assert.Equal(0f, log.GetValue(2));
        Assert.Equal(float.PositiveInfinity, log.GetValue(3));
        using var sqrt = t.Sqrt();
        Assert.Equal(0f, sqrt.GetValue(0));
        Assert.True(float.IsNaN(sqrt.GetValue(1)));
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 50)]
    public void Total_reductions_match_double(TensorCase c)
    {
        var x = c.Values();
        using var t = c.Create();
        double sum = 0, abs = 0, max = double.NegativeInfinity, min = double.PositiveInfinity;
        foreach (float v in x)
        {
            sum += v;
            abs += Math.Abs(v);
            max = Math.Max(max, v);
            min = Math.Min(min, v);
        }
        Reference.AssertClose([sum], [t.Sum()], [abs], 1e-5, 1e-6, "sum");
        Reference.AssertClose([sum / x.Length], [t.Mean()], [abs / x.Length], 1e-5, 1e-6, "mean");
        Assert.Equal((float)max, t.Max());
        Assert.Equal((float)min, t.Min());
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 40)]
    public void Axis_reductions_match_double_for_every_axis(TensorCase c)
    {
        var x = c.Values();
        using var t = c.Create();
        int rank = c.Dims.Length;
        for (int axis = 0; axis < rank; axis++)
        {
            int n = c.Dims[axis];
            var (sum, scale) = Reference.ReduceAxis(x, c.Dims, axis, (a, b) => a + b);
            var (max, _) = Reference.ReduceAxis(x, c.Dims, axis, Math.Max);
            var (min, _) = Reference.ReduceAxis(x, c.Dims, axis, Math.Min);
            var mean = Map(sum, v => v / n);
            var meanScale = Map(scale, v => v / n);
            foreach (bool keepDim in new[] { false, true })
            {
                var shape = new Shape(Reference.Reduced(c.Dims, axis, keepDim));
                // Both the axis and its negative alias must give the same answer.
                foreach (int a in new[] { axis, axis - rank })
                {
                    string what = $"axis {a} keepDim {keepDim} of {c}";
                    using var s = t.Sum(a, keepDim);
                    using var m = t.Mean(a, keepDim);
                    using var mx = t.Max(a, keepDim);
                    using var mn = t.Min(a, keepDim);
                    Assert.Equal(shape, s.Shape);
                    Assert.Equal(shape, m.Shape);
                    Assert.Equal(shape, mx.Shape);
                    Assert.Equal(shape, mn.Shape);
                    Reference.AssertClose(sum, s.AsReadOnlySpan(), scale, 1e-5, 1e-6, "sum " + what);
                    Reference.AssertClose(mean, m.AsReadOnlySpan(), meanScale, 1e-5, 1e-6, "mean " + what);
                    Reference.AssertRounded(max, mx.AsReadOnlySpan(), "max " + what);
                    Reference.AssertRounded(min, mn.AsReadOnlySpan(), "min " + what);
                }
            }
        }
    }

    [Fact]
    public void Reductions_over_an_empty_axis()
    {
        using var t = Tensor.Zeros(3, 0, 2);
        using var s = t.Sum(1);
        Assert.Equal(new Shape(3, 2), s.Shape);
        Assert.All(s.ToArray(), v => Assert.Equal(0f, v));
        using var sk = t.Sum(1, keepDim: true);
        Assert.Equal(new Shape(3, 1, 2), sk.Shape);
        using var outer = t.Max(0);
        Assert.Equal(new Shape(0, 2), outer.Shape);

        Assert.Throws<InvalidOperationException>(() => t.Max(1));
        Assert.Throws<InvalidOperationException>(() => t.Min(1, keepDim: true));
        Assert.Throws<InvalidOperationException>(() => t.Mean(-2));
        Assert.Throws<InvalidOperationException>(() => t.Max());
        Assert.Throws<InvalidOperationException>(() => t.Min());
        Assert.Throws<InvalidOperationException>(() => t.Mean());
        Assert.Equal(0f, t.Sum());
    }

    [Fact]
    public void Reducing_an_axis_out_of_range_throws()
    {
        using var t = Tensor.Zeros(2, 3);
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Sum(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Max(-3));
    }

    [Fact]
    public void Reducing_the_only_axis_of_a_vector_gives_a_scalar()
    {
        using var t = Tensor.FromArray([1f, 5f, -2f], 3);
        using var s = t.Sum(0);
        Assert.Equal(0, s.Rank);
        Assert.Equal(4f, s.ToScalar());
        using var m = t.Max(0, keepDim: true);
        Assert.Equal(new Shape(1), m.Shape);
        Assert.Equal(5f, m.ToScalar());
    }

    [Property(Arbitrary = new[] { typeof(Generators) })]
    public void ArgMaxLastAxis_is_the_first_index_of_the_maximum(TensorCase c)
    {
        // Rounding makes ties common; adding +0 turns -0 into +0 so ties are exact.
        var x = Map(c.Values(), v => Math.Round(v * 1.5) + 0.0);
        var xf = Array.ConvertAll(x, v => (float)v);
        using var t = Tensor.FromArray(xf, c.Dims);
        var arg = t.ArgMaxLastAxis();
        int n = c.Dims[^1];
        Assert.Equal(xf.Length / n, arg.Length);
        for (int r = 0; r < arg.Length; r++)
        {
            int best = 0;
            for (int j = 1; j < n; j++)
            {
                if (xf[r * n + j] > xf[r * n + best]) best = j;
            }
            Assert.Equal(best, arg[r]);
        }
    }

    [Fact]
    public void ArgMaxLastAxis_needs_a_non_empty_last_axis()
    {
        using var s = Tensor.Scalar(1f);
        Assert.Throws<InvalidOperationException>(() => s.ArgMaxLastAxis());
        using var e = Tensor.Zeros(3, 0);
        Assert.Throws<InvalidOperationException>(() => e.ArgMaxLastAxis());
        using var ties = Tensor.FromArray([2f, 7f, 7f, 1f, 3f, 3f, 3f, 3f], 2, 4);
        Assert.Equal(new[] { 1, 0 }, ties.ArgMaxLastAxis());
    }

    [Property(Arbitrary = new[] { typeof(Generators) })]
    public void SumToShape_of_ones_counts_the_broadcast_copies(BroadcastCase c)
    {
        var (dims, _) = NaiveBroadcast(new float[new Shape(c.Left).ElementCount], c.Left, new float[new Shape(c.Right).ElementCount], c.Right, (x, _) => x);
        using var left = Tensor.Zeros(new Shape(c.Left));
        using var right = Tensor.Zeros(new Shape(c.Right));
        using var sum = left.Add(right);
        using var ones = Tensor.Ones(sum.Shape);
        float copies = new Shape(dims).ElementCount / (float)left.Length;
        using var grad = ones.SumToShape(left.Shape);
        Assert.Equal(left.Shape, grad.Shape);
        Assert.All(grad.ToArray(), v => Assert.Equal(copies, v));
        using var gradRight = ones.SumToShape(right.Shape);
        Assert.All(gradRight.ToArray(), v => Assert.Equal(new Shape(dims).ElementCount / (float)right.Length, v));
    }

    [Property(Arbitrary = new[] { typeof(Generators) })]
    public void SumToShape_matches_a_naive_scatter_add(BroadcastCase c)
    {
        var (dims, _) = NaiveBroadcast(new float[new Shape(c.Left).ElementCount], c.Left, new float[new Shape(c.Right).ElementCount], c.Right, (x, _) => x);
        var source = new TensorCase(dims, c.Seed);
        var x = source.Values();
        using var t = source.Create();
        using var reduced = t.SumToShape(new Shape(c.Left));
        var expected = new double[new Shape(c.Left).ElementCount];
        var scale = new double[expected.Length];
        var index = new int[dims.Length];
        for (int flat = 0; flat < x.Length; flat++)
        {
            Unravel(flat, dims, index);
            int to = BroadcastIndex(index, c.Left);
            expected[to] += x[flat];
            scale[to] += Math.Abs(x[flat]);
        }
        Reference.AssertClose(expected, reduced.AsReadOnlySpan(), scale, 1e-5, 1e-6, $"sum to {Shape.Format(c.Left)} from {Shape.Format(dims)}");
    }

    [Fact]
    public void SumToShape_rejects_shapes_that_do_not_broadcast()
    {
        using var t = Tensor.Zeros(4, 3);
        Assert.Throws<ArgumentException>(() => t.SumToShape(new Shape(4)));
        Assert.Throws<ArgumentException>(() => t.SumToShape(new Shape(2, 4, 3)));
        Assert.Throws<ArgumentException>(() => t.SumToShape(new Shape(4, 6)));
        using var scalar = t.SumToShape(new Shape());
        Assert.Equal(0, scalar.Rank);
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 50)]
    public void TransposeLastTwo_swaps_the_last_two_axes(TensorCase c)
    {
        using var t = c.Create();
        if (c.Dims.Length < 2)
        {
            Assert.Throws<InvalidOperationException>(() => t.TransposeLastTwo());
            return;
        }
        var x = c.Values();
        using var tr = t.TransposeLastTwo();
        var dims = (int[])c.Dims.Clone();
        (dims[^2], dims[^1]) = (dims[^1], dims[^2]);
        Assert.Equal(new Shape(dims), tr.Shape);
        var index = new int[dims.Length];
        var y = tr.AsReadOnlySpan();
        for (int flat = 0; flat < x.Length; flat++)
        {
            Unravel(flat, c.Dims, index);
            (index[^2], index[^1]) = (index[^1], index[^2]);
            int to = 0;
            for (int a = 0; a < dims.Length; a++) to = to * dims[a] + index[a];
            Assert.Equal(x[flat], y[to]);
        }
        using var back = tr.TransposeLastTwo();
        Reference.AssertBitwise(x, back.AsReadOnlySpan(), "double transpose");
    }

    /// <summary>
    /// Broadcasts two operands by the NumPy rules, written independently of the engine: align on the last axis,
    /// a missing or size-1 axis repeats; returns the output dims and the op applied per output element.
    /// </summary>
    private static (int[] Dims, double[] Values) NaiveBroadcast(float[] x, int[] xd, float[] y, int[] yd, Func<double, double, double> op)
    {
        int rank = Math.Max(xd.Length, yd.Length);
        var dims = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int a = i - (rank - xd.Length) >= 0 ? xd[i - (rank - xd.Length)] : 1;
            int b = i - (rank - yd.Length) >= 0 ? yd[i - (rank - yd.Length)] : 1;
            Assert.True(a == b || a == 1 || b == 1, "test case must broadcast");
            dims[i] = a == 1 ? b : a;
        }
        int count = 1;
        foreach (int d in dims) count *= d;
        var result = new double[count];
        var index = new int[rank];
        for (int flat = 0; flat < count; flat++)
        {
            Unravel(flat, dims, index);
            result[flat] = op(x[BroadcastIndex(index, xd)], y[BroadcastIndex(index, yd)]);
        }
        return (dims, result);
    }

    /// <summary>The flat index in an operand of dims <paramref name="od"/> read for output index <paramref name="index"/>.</summary>
    private static int BroadcastIndex(int[] index, int[] od)
    {
        int offset = index.Length - od.Length;
        int flat = 0;
        for (int a = 0; a < od.Length; a++) flat = flat * od[a] + (od[a] == 1 ? 0 : index[offset + a]);
        return flat;
    }

    private static void Unravel(int flat, int[] dims, int[] index)
    {
        for (int a = dims.Length - 1; a >= 0; a--)
        {
            index[a] = flat % dims[a];
            flat /= dims[a];
        }
    }

    private static double[] Map(float[] x, Func<double, double> f)
    {
        var r = new double[x.Length];
        for (int i = 0; i < x.Length; i++) r[i] = f(x[i]);
        return r;
    }

    private static double[] Map(double[] x, Func<double, double> f)
    {
        var r = new double[x.Length];
        for (int i = 0; i < x.Length; i++) r[i] = f(x[i]);
        return r;
    }

    private static void AssertUnary(Tensor result, double[] expected, string what)
    {
        using (result)
        {
            var actual = result.AsReadOnlySpan();
            for (int i = 0; i < expected.Length; i++)
            {
                double e = expected[i];
                if (double.IsNaN(e) || double.IsInfinity(e) || Math.Abs(e) > float.MaxValue)
                {
                    Assert.Equal((float)e, actual[i]);
                    continue;
                }
                double tol = 1e-6 * Math.Abs(e) + 1e-30;
                if (!(Math.Abs(e - actual[i]) <= tol))
                {
                    throw new Xunit.Sdk.XunitException($"{what}: element {i} is {actual[i]}, expected {e} (relative tolerance 1e-6).");
                }
            }
        }
    }
}
