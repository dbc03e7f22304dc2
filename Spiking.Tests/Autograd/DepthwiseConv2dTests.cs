using System;
using Spiking.Autograd;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Autograd;

/// <summary>A depthwise convolution problem: x <c>[N, C, H, W]</c>, weight <c>[C, 1, k, k]</c>, stride and padding.</summary>
public sealed record DepthwiseCase(int N, int C, int H, int W, int K, int Stride, int Padding, int Seed)
{
    public int Ho => (H + 2 * Padding - K) / Stride + 1;

    public int Wo => (W + 2 * Padding - K) / Stride + 1;

    public float[] Normal(int count, int salt) => new ProductCase(1, 1, 1, 0.3, Seed).Normal(count, salt);

    public float[] Bits(double rate) => new SpikeCase(N * C * H, W, rate, Seed + 11).Dense();

    public Tensor Input(float[] values) => Tensor.FromArray(values, N, C, H, W);

    public Tensor Weight(float[] values) => Tensor.FromArray(values, C, 1, K, K);

    public Tensor Gradient(float[] values) => Tensor.FromArray(values, N, C, Ho, Wo);

    public override string ToString() => $"DepthwiseCase(x [{N}, {C}, {H}, {W}], w [{C}, 1, {K}, {K}], stride {Stride}, padding {Padding}, seed {Seed})";

    /// <summary>Visits every (output, input, weight) index triple of a term of the convolution, skipping the padding.</summary>
    private void ForEachTerm(Action<int, int, int> term)
    {
        for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
        for (int oy = 0; oy < Ho; oy++)
        for (int ox = 0; ox < Wo; ox++)
        for (int i = 0; i < K; i++)
        for (int j = 0; j < K; j++)
        {
            int yy = oy * Stride - Padding + i, xx = ox * Stride - Padding + j;
            if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
            term(((n * C + c) * Ho + oy) * Wo + ox, ((n * C + c) * H + yy) * W + xx, (c * K + i) * K + j);
        }
    }

    /// <summary>The naive double-precision forward and, per output, the sum of |terms| for the tolerance.</summary>
    public (double[] Values, double[] Scale) Forward(float[] x, float[] w, float[]? b)
    {
        var y = new double[N * C * Ho * Wo];
        var scale = new double[y.Length];
        if (b is not null)
        {
            for (int at = 0; at < y.Length; at++)
            {
                int c = at / (Ho * Wo) % C;
                y[at] = b[c];
                scale[at] = Math.Abs(b[c]);
            }
        }
        ForEachTerm((o, xi, wi) =>
        {
            double t = (double)x[xi] * w[wi];
            y[o] += t;
            scale[o] += Math.Abs(t);
        });
        return (y, scale);
    }

    /// <summary>The naive double-precision dx for an output gradient <paramref name="g"/>.</summary>
    public (double[] Values, double[] Scale) InputGradient(float[] w, float[] g)
    {
        var dx = new double[N * C * H * W];
        var scale = new double[dx.Length];
        ForEachTerm((o, xi, wi) =>
        {
            double t = (double)g[o] * w[wi];
            dx[xi] += t;
            scale[xi] += Math.Abs(t);
        });
        return (dx, scale);
    }

    /// <summary>The naive double-precision dW for an output gradient <paramref name="g"/>.</summary>
    public (double[] Values, double[] Scale) WeightGradient(float[] x, float[] g)
    {
        var dw = new double[C * K * K];
        var scale = new double[dw.Length];
        ForEachTerm((o, xi, wi) =>
        {
            double t = (double)g[o] * x[xi];
            dw[wi] += t;
            scale[wi] += Math.Abs(t);
        });
        return (dw, scale);
    }
}

[Collection("Parallelism")]
public sealed class DepthwiseConv2dTests
{
    public static TheoryData<DepthwiseCase> Cases() => new()
    {
        new DepthwiseCase(2, 3, 7, 9, 3, 1, 1, 1),
        new DepthwiseCase(1, 4, 8, 8, 3, 2, 0, 2),
        new DepthwiseCase(5, 2, 9, 7, 3, 2, 2, 3),
        new DepthwiseCase(3, 5, 5, 70, 3, 1, 3, 4),
        new DepthwiseCase(2, 3, 11, 13, 7, 1, 3, 5),
        new DepthwiseCase(6, 2, 9, 11, 7, 2, 3, 6),
        new DepthwiseCase(1, 3, 7, 7, 7, 1, 0, 7),
        new DepthwiseCase(2, 2, 5, 67, 7, 2, 1, 8),
        new DepthwiseCase(1, 1, 3, 5, 3, 1, 3, 9),
    };

    public static TheoryData<DepthwiseCase> SmallCases() => new()
    {
        new DepthwiseCase(2, 2, 5, 6, 3, 1, 1, 11),
        new DepthwiseCase(5, 3, 7, 5, 3, 2, 2, 12),
        new DepthwiseCase(1, 2, 7, 9, 7, 1, 3, 13),
        new DepthwiseCase(2, 1, 8, 7, 7, 2, 0, 14),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Dense_forward_matches_double(DepthwiseCase c)
    {
        var x = c.Normal(c.N * c.C * c.H * c.W, 1);
        var w = c.Normal(c.C * c.K * c.K, 2);
        var b = c.Normal(c.C, 3);
        using var xv = Variable.Constant(c.Input(x));
        using var wv = Variable.Constant(c.Weight(w));
        using var bv = Variable.Constant(Tensor.FromArray(b, c.C));
        using var y = Functional.DepthwiseConv2d(xv, wv, bv, c.Stride, c.Padding);
        Assert.Equal(new Shape(c.N, c.C, c.Ho, c.Wo), y.Shape);
        var (expected, scale) = c.Forward(x, w, b);
        Reference.AssertClose(expected, y.Dense.AsReadOnlySpan(), scale, 1e-5, 1e-6, $"{c} with bias");
        using var plain = Functional.DepthwiseConv2d(xv, wv, stride: c.Stride, padding: c.Padding);
        var (expectedPlain, scalePlain) = c.Forward(x, w, null);
        Reference.AssertClose(expectedPlain, plain.Dense.AsReadOnlySpan(), scalePlain, 1e-5, 1e-6, $"{c} without bias");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Dense_backward_matches_double(DepthwiseCase c)
    {
        var x = c.Normal(c.N * c.C * c.H * c.W, 1);
        var w = c.Normal(c.C * c.K * c.K, 2);
        var b = c.Normal(c.C, 3);
        var g = c.Normal(c.N * c.C * c.Ho * c.Wo, 4);
        using var xv = Variable.Parameter(c.Input(x));
        using var wv = Variable.Parameter(c.Weight(w));
        using var bv = Variable.Parameter(Tensor.FromArray(b, c.C));
        using var y = Functional.DepthwiseConv2d(xv, wv, bv, c.Stride, c.Padding);
        using (var seed = c.Gradient(g)) y.Backward(seed);
        var (dx, dxScale) = c.InputGradient(w, g);
        Reference.AssertClose(dx, xv.Grad!.AsReadOnlySpan(), dxScale, 1e-5, 1e-6, $"{c} dx");
        var (dw, dwScale) = c.WeightGradient(x, g);
        Reference.AssertClose(dw, wv.Grad!.AsReadOnlySpan(), dwScale, 1e-5, 1e-6, $"{c} dW");
        var db = new double[c.C];
        var dbScale = new double[c.C];
        for (int at = 0; at < g.Length; at++)
        {
            db[at / (c.Ho * c.Wo) % c.C] += g[at];
            dbScale[at / (c.Ho * c.Wo) % c.C] += Math.Abs(g[at]);
        }
        Reference.AssertClose(db, bv.Grad!.AsReadOnlySpan(), dbScale, 1e-5, 1e-6, $"{c} db");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Spike_input_equals_dense_zero_one_input(DepthwiseCase c)
    {
        foreach (double rate in new[] { 0.0, 0.3, 1.0 })
        {
            var bits = c.Bits(rate);
            var w = c.Normal(c.C * c.K * c.K, 2);
            var b = c.Normal(c.C, 3);
            var g = c.Normal(c.N * c.C * c.Ho * c.Wo, 4);
            var what = $"{c} rate {rate}";

            using var u = Variable.Parameter(c.Input(ShapeOpTests.Shifted(bits)));
            using var spikes = SpikeSourceNode.Apply(u);
            Assert.True(spikes.IsSpikes);
            using var ws = Variable.Parameter(c.Weight(w));
            using var bs = Variable.Parameter(Tensor.FromArray(b, c.C));
            using var ys = Functional.DepthwiseConv2d(spikes, ws, bs, c.Stride, c.Padding);

            using var xd = Variable.Parameter(c.Input(bits));
            using var wd = Variable.Parameter(c.Weight(w));
            using var bd = Variable.Parameter(Tensor.FromArray(b, c.C));
            using var yd = Functional.DepthwiseConv2d(xd, wd, bd, c.Stride, c.Padding);

            // Spike planes are unpacked to the same 0/1 floats and run the same arithmetic, so every result matches bitwise.
            Reference.AssertBitwise(yd.Dense.AsReadOnlySpan(), ys.Dense.AsReadOnlySpan(), $"{what} outputs");
            using (var seed = c.Gradient(g)) ys.Backward(seed);
            using (var seed = c.Gradient(g)) yd.Backward(seed);
            Reference.AssertBitwise(xd.Grad!.AsReadOnlySpan(), u.Grad!.AsReadOnlySpan(), $"{what} dx");
            Reference.AssertBitwise(wd.Grad!.AsReadOnlySpan(), ws.Grad!.AsReadOnlySpan(), $"{what} dW");
            Reference.AssertBitwise(bd.Grad!.AsReadOnlySpan(), bs.Grad!.AsReadOnlySpan(), $"{what} db");
            var (expected, scale) = c.Forward(bits, w, b);
            Reference.AssertClose(expected, ys.Dense.AsReadOnlySpan(), scale, 1e-5, 1e-6, $"{what} outputs vs double");
            var (dw, dwScale) = c.WeightGradient(bits, g);
            Reference.AssertClose(dw, ws.Grad.AsReadOnlySpan(), dwScale, 1e-5, 1e-6, $"{what} spike dW vs double");
        }
    }

    [Theory]
    [MemberData(nameof(SmallCases))]
    public void Gradients_of_input_weight_and_bias(DepthwiseCase c)
    {
        GradAssert.Passes(v => Functional.DepthwiseConv2d(v[0], v[1], v[2], c.Stride, c.Padding), $"{c}",
            c.Input(c.Normal(c.N * c.C * c.H * c.W, 1)),
            c.Weight(c.Normal(c.C * c.K * c.K, 2)),
            Tensor.FromArray(c.Normal(c.C, 3), c.C));
        GradAssert.Passes(v => Functional.DepthwiseConv2d(v[0], v[1], stride: c.Stride, padding: c.Padding), $"{c} without bias",
            c.Input(c.Normal(c.N * c.C * c.H * c.W, 1)),
            c.Weight(c.Normal(c.C * c.K * c.K, 2)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void One_and_four_threads_give_the_same_bits(bool spikes)
    {
        var c = new DepthwiseCase(13, 6, 12, 11, 7, 1, 3, 21);
        var strided = c with { Stride = 2, Padding = 1 };
        int saved = Parallelism.MaxThreads;
        try
        {
            foreach (var problem in new[] { c, strided })
            {
                Parallelism.MaxThreads = 1;
                var one = Run(problem, spikes);
                Parallelism.MaxThreads = 4;
                var four = Run(problem, spikes);
                for (int i = 0; i < one.Length; i++) Reference.AssertBitwise(one[i], four[i], $"{problem} result {i}");
            }
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }

    private static float[][] Run(DepthwiseCase c, bool spikes)
    {
        var bits = c.Bits(0.3);
        using var u = Variable.Parameter(c.Input(spikes ? ShapeOpTests.Shifted(bits) : c.Normal(bits.Length, 1)));
        using var x = spikes ? SpikeSourceNode.Apply(u) : null;
        using var w = Variable.Parameter(c.Weight(c.Normal(c.C * c.K * c.K, 2)));
        using var b = Variable.Parameter(Tensor.FromArray(c.Normal(c.C, 3), c.C));
        using var y = Functional.DepthwiseConv2d(x ?? u, w, b, c.Stride, c.Padding);
        var result = y.Dense.ToArray();
        using (var seed = c.Gradient(c.Normal(c.N * c.C * c.Ho * c.Wo, 4))) y.Backward(seed);
        return [result, u.Grad!.ToArray(), w.Grad!.ToArray(), b.Grad!.ToArray()];
    }

    [Fact]
    public void Shape_errors_name_the_shapes()
    {
        using var x = Variable.Constant(Tensor.Zeros(2, 3, 5, 5));
        using var w4 = Variable.Constant(Tensor.Zeros(4, 1, 3, 3));
        var e = Assert.Throws<ArgumentException>(() => Functional.DepthwiseConv2d(x, w4));
        Assert.Contains("[2, 3, 5, 5]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[4, 1, 3, 3]", e.Message, StringComparison.Ordinal);
        Assert.Equal("x", e.ParamName);

        using var full = Variable.Constant(Tensor.Zeros(3, 3, 3, 3));
        e = Assert.Throws<ArgumentException>(() => Functional.DepthwiseConv2d(x, full));
        Assert.Contains("[3, 3, 3, 3]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[C, 1, kh, kw]", e.Message, StringComparison.Ordinal);
        Assert.Equal("weight", e.ParamName);

        using var big = Variable.Constant(Tensor.Zeros(3, 1, 7, 7));
        e = Assert.Throws<ArgumentException>(() => Functional.DepthwiseConv2d(x, big, padding: 0));
        Assert.Contains("[3, 1, 7, 7]", e.Message, StringComparison.Ordinal);
        Assert.Equal("weight", e.ParamName);

        using var w3 = Variable.Constant(Tensor.Zeros(3, 1, 3, 3));
        using var bias = Variable.Constant(Tensor.Zeros(5));
        e = Assert.Throws<ArgumentException>(() => Functional.DepthwiseConv2d(x, w3, bias));
        Assert.Contains("[5]", e.Message, StringComparison.Ordinal);
        Assert.Equal("bias", e.ParamName);

        using var flat = Variable.Constant(Tensor.Zeros(3, 5, 5));
        e = Assert.Throws<ArgumentException>(() => Functional.DepthwiseConv2d(flat, w3));
        Assert.Contains("[3, 5, 5]", e.Message, StringComparison.Ordinal);
        Assert.Equal("x", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => Functional.DepthwiseConv2d(x, w3, stride: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Functional.DepthwiseConv2d(x, w3, padding: -1));
    }
}
