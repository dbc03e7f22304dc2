using System;
using System.Linq;
using Spiking.Autograd;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;
using Xunit;

namespace Spiking.Tests.Autograd;

/// <summary>A convolution problem: x <c>[N, C, H, W]</c>, weight <c>[O, C, kh, kw]</c>, stride, padding and a spike rate.</summary>
public sealed record ConvCase(int N, int C, int H, int W, int O, int Kh, int Kw, int Stride, int Padding, int Seed)
{
    public int Ho => (H + 2 * Padding - Kh) / Stride + 1;

    public int Wo => (W + 2 * Padding - Kw) / Stride + 1;

    public float[] Normal(int count, int salt) => new ProductCase(1, 1, 1, 0.3, Seed).Normal(count, salt);

    public float[] Bits(double rate) => new SpikeCase(N * C * H, W, rate, Seed + 11).Dense();

    public override string ToString() => $"ConvCase(x [{N}, {C}, {H}, {W}], w [{O}, {C}, {Kh}, {Kw}], stride {Stride}, padding {Padding}, seed {Seed})";

    /// <summary>The naive double-precision convolution and, per output, the sum of |terms| for the tolerance.</summary>
    public (double[] Values, double[] Scale) Reference(float[] x, float[] w, float[]? b)
    {
        var y = new double[N * O * Ho * Wo];
        var scale = new double[y.Length];
        for (int n = 0; n < N; n++)
        for (int o = 0; o < O; o++)
        for (int oy = 0; oy < Ho; oy++)
        for (int ox = 0; ox < Wo; ox++)
        {
            double s = b is null ? 0 : b[o], a = b is null ? 0 : Math.Abs(b[o]);
            for (int c = 0; c < C; c++)
            for (int i = 0; i < Kh; i++)
            for (int j = 0; j < Kw; j++)
            {
                int yy = oy * Stride - Padding + i, xx = ox * Stride - Padding + j;
                if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
                double t = (double)x[((n * C + c) * H + yy) * W + xx] * w[((o * C + c) * Kh + i) * Kw + j];
                s += t;
                a += Math.Abs(t);
            }
            int at = ((n * O + o) * Ho + oy) * Wo + ox;
            y[at] = s;
            scale[at] = a;
        }
        return (y, scale);
    }
}

public sealed class ConvTests
{
    public static TheoryData<ConvCase> Cases() => new()
    {
        new ConvCase(2, 3, 7, 9, 4, 3, 3, 1, 1, 1),
        new ConvCase(1, 2, 8, 8, 3, 3, 3, 2, 0, 2),
        new ConvCase(3, 1, 6, 5, 2, 2, 3, 2, 2, 3),
        new ConvCase(1, 5, 5, 70, 3, 3, 5, 1, 1, 4),
        new ConvCase(2, 30, 6, 7, 3, 3, 3, 1, 1, 5),
        new ConvCase(1, 3, 4, 130, 2, 1, 3, 3, 0, 6),
        new ConvCase(5, 2, 5, 5, 3, 5, 5, 1, 2, 7),
        new ConvCase(1, 1, 3, 66, 2, 3, 66, 1, 1, 8),
        new ConvCase(2, 3, 6, 7, 2, 3, 2, 1, 0, 9),
        new ConvCase(2, 2, 5, 6, 3, 3, 3, 1, 3, 10),
    };

    public static TheoryData<ConvCase> SmallCases() => new()
    {
        new ConvCase(2, 2, 5, 6, 3, 3, 3, 1, 1, 11),
        new ConvCase(1, 3, 6, 5, 2, 2, 3, 2, 2, 12),
        new ConvCase(2, 1, 7, 7, 2, 3, 2, 2, 0, 13),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Dense_forward_matches_double(ConvCase c)
    {
        var x = c.Normal(c.N * c.C * c.H * c.W, 1);
        var w = c.Normal(c.O * c.C * c.Kh * c.Kw, 2);
        var b = c.Normal(c.O, 3);
        using var xv = Variable.Constant(Tensor.FromArray(x, c.N, c.C, c.H, c.W));
        using var wv = Variable.Constant(Tensor.FromArray(w, c.O, c.C, c.Kh, c.Kw));
        using var bv = Variable.Constant(Tensor.FromArray(b, c.O));
        using var y = Functional.Conv2d(xv, wv, bv, c.Stride, c.Padding);
        Assert.Equal(new Shape(c.N, c.O, c.Ho, c.Wo), y.Shape);
        var (expected, scale) = c.Reference(x, w, b);
        Reference.AssertClose(expected, y.Dense.AsReadOnlySpan(), scale, 1e-5, 1e-6, $"{c} with bias");
        using var plain = Functional.Conv2d(xv, wv, stride: c.Stride, padding: c.Padding);
        var (expectedPlain, scalePlain) = c.Reference(x, w, null);
        Reference.AssertClose(expectedPlain, plain.Dense.AsReadOnlySpan(), scalePlain, 1e-5, 1e-6, $"{c} without bias");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Spike_forward_matches_double(ConvCase c)
    {
        var bits = c.Bits(0.3);
        var w = c.Normal(c.O * c.C * c.Kh * c.Kw, 2);
        var b = c.Normal(c.O, 3);
        using var dense = Tensor.FromArray(bits, c.N, c.C, c.H, c.W);
        using var xv = Variable.Constant(SpikeTensor.FromBinary(dense));
        using var wv = Variable.Constant(Tensor.FromArray(w, c.O, c.C, c.Kh, c.Kw));
        using var bv = Variable.Constant(Tensor.FromArray(b, c.O));
        using var cache = new TransposedWeightCache();
        using var y = Functional.Conv2d(xv, wv, bv, c.Stride, c.Padding, cache);
        var (expected, scale) = c.Reference(bits, w, b);
        Reference.AssertClose(expected, y.Dense.AsReadOnlySpan(), scale, 1e-5, 1e-6, $"{c}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Spike_path_equals_the_dense_path_on_the_same_bits(ConvCase c)
    {
        foreach (double rate in new[] { 0.0, 0.2, 0.7, 1.0 })
        {
            var bits = c.Bits(rate);
            var w = c.Normal(c.O * c.C * c.Kh * c.Kw, 2);
            var b = c.Normal(c.O, 3);
            var g = c.Normal(c.N * c.O * c.Ho * c.Wo, 4);
            var what = $"{c} rate {rate}";

            using var u = Variable.Parameter(Tensor.FromArray(ShapeOpTests.Shifted(bits), c.N, c.C, c.H, c.W));
            using var spikes = SpikeSourceNode.Apply(u);
            using var ws = Variable.Parameter(Tensor.FromArray(w, c.O, c.C, c.Kh, c.Kw));
            using var bs = Variable.Parameter(Tensor.FromArray(b, c.O));
            using var ys = Functional.Conv2d(spikes, ws, bs, c.Stride, c.Padding);

            using var xd = Variable.Parameter(Tensor.FromArray(bits, c.N, c.C, c.H, c.W));
            using var wd = Variable.Parameter(Tensor.FromArray(w, c.O, c.C, c.Kh, c.Kw));
            using var bd = Variable.Parameter(Tensor.FromArray(b, c.O));
            using var yd = Functional.Conv2d(xd, wd, bd, c.Stride, c.Padding);

            var (_, scale) = c.Reference(bits, MatMulTests.Abs(w), MatMulTests.Abs(b));
            Reference.AssertClose(GradAssert.ToDouble(yd.Dense.AsReadOnlySpan()), ys.Dense.AsReadOnlySpan(), scale, 2e-5, 1e-6, $"{what} outputs");

            using (var seed = Tensor.FromArray(g, c.N, c.O, c.Ho, c.Wo)) ys.Backward(seed);
            using (var seed = Tensor.FromArray(g, c.N, c.O, c.Ho, c.Wo)) yd.Backward(seed);
            var (expectedDw, dwScale) = WeightGradientReference(c, bits, g);
            Reference.AssertClose(expectedDw, ws.Grad!.AsReadOnlySpan(), dwScale, 2e-5, 1e-6, $"{what} spike dW vs double");
            Reference.AssertClose(expectedDw, wd.Grad!.AsReadOnlySpan(), dwScale, 2e-5, 1e-6, $"{what} dense dW vs double");
            Reference.AssertBitwise(bd.Grad!.AsReadOnlySpan(), bs.Grad!.AsReadOnlySpan(), $"{what} db");
            // dx = col2im(Wᵀ·G) runs the same code on both paths: the gradient w.r.t. the spikes is the dense one exactly.
            Reference.AssertBitwise(xd.Grad!.AsReadOnlySpan(), u.Grad!.AsReadOnlySpan(), $"{what} dx");
            var (expectedDx, dxScale) = InputGradientReference(c, w, g);
            Reference.AssertClose(expectedDx, u.Grad.AsReadOnlySpan(), dxScale, 1e-5, 1e-6, $"{what} dx vs double");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Spike_input_is_saved_as_bits(ConvCase c)
    {
        // The backward keeps the input's bit patches [N·P, C·kh·kw] for the weight gradient, never floats of the
        // spikes; the weight is the only float it keeps.
        using var scope = DisposeScope.Begin();
        var u = Variable.Parameter(Tensor.FromArray(ShapeOpTests.Shifted(c.Bits(0.3)), c.N, c.C, c.H, c.W));
        var spikes = Functional.Spike(u, new Spiking.Autograd.Surrogates.ATan());
        var w = Variable.Parameter(Tensor.FromArray(c.Normal(c.O * c.C * c.Kh * c.Kw, 2), c.O, c.C, c.Kh, c.Kw));
        var report = SavedActivations.Of(Functional.Conv2d(spikes, w, stride: c.Stride, padding: c.Padding));

        var saved = report.Tensors.Where(t => t.Op == "conv2d").ToList();
        Assert.Equal(2, saved.Count);
        var patches = Assert.Single(saved, t => t.Storage == SavedStorage.Bits);
        Assert.Equal(new Shape(c.N * c.Ho * c.Wo, c.C * c.Kh * c.Kw), patches.Shape);
        Assert.Equal((long)c.N * c.Ho * c.Wo * SpikeTensor.WordsFor(c.C * c.Kh * c.Kw) * sizeof(ulong), patches.Bytes);
        var weight = Assert.Single(saved, t => t.Storage == SavedStorage.Dense);
        Assert.Equal("weight", weight.What);
        Assert.True(weight.Leaf);
        Assert.Equal(patches.Bytes, report.BitBytes);
        Assert.Equal(patches.Shape.ElementCount * sizeof(float), report.BitsAsFloatBytes);
        Assert.Equal(0, report.FloatBytes);
    }

    [Theory]
    [MemberData(nameof(SmallCases))]
    public void Dense_gradients_of_input_weight_and_bias(ConvCase c)
    {
        GradAssert.Passes(v => Functional.Conv2d(v[0], v[1], v[2], c.Stride, c.Padding), $"{c}",
            Tensor.FromArray(c.Normal(c.N * c.C * c.H * c.W, 1), c.N, c.C, c.H, c.W),
            Tensor.FromArray(c.Normal(c.O * c.C * c.Kh * c.Kw, 2), c.O, c.C, c.Kh, c.Kw),
            Tensor.FromArray(c.Normal(c.O, 3), c.O));
        GradAssert.Passes(v => Functional.Conv2d(v[0], v[1], stride: c.Stride, padding: c.Padding), $"{c} without bias",
            Tensor.FromArray(c.Normal(c.N * c.C * c.H * c.W, 1), c.N, c.C, c.H, c.W),
            Tensor.FromArray(c.Normal(c.O * c.C * c.Kh * c.Kw, 2), c.O, c.C, c.Kh, c.Kw));
    }

    [Fact]
    public void Shape_errors_name_the_shapes()
    {
        using var x = Variable.Constant(Tensor.Zeros(2, 3, 5, 5));
        using var w = Variable.Constant(Tensor.Zeros(4, 2, 3, 3));
        var e = Assert.Throws<ArgumentException>(() => Functional.Conv2d(x, w));
        Assert.Contains("[2, 3, 5, 5]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[4, 2, 3, 3]", e.Message, StringComparison.Ordinal);
        Assert.Equal("x", e.ParamName);

        using var big = Variable.Constant(Tensor.Zeros(4, 3, 7, 7));
        e = Assert.Throws<ArgumentException>(() => Functional.Conv2d(x, big, padding: 0));
        Assert.Contains("[4, 3, 7, 7]", e.Message, StringComparison.Ordinal);
        Assert.Equal("weight", e.ParamName);

        using var w3 = Variable.Constant(Tensor.Zeros(4, 3, 3, 3));
        using var bias = Variable.Constant(Tensor.Zeros(5));
        e = Assert.Throws<ArgumentException>(() => Functional.Conv2d(x, w3, bias));
        Assert.Contains("[5]", e.Message, StringComparison.Ordinal);
        Assert.Equal("bias", e.ParamName);

        using var flat = Variable.Constant(Tensor.Zeros(3, 5, 5));
        e = Assert.Throws<ArgumentException>(() => Functional.Conv2d(flat, w3));
        Assert.Contains("[3, 5, 5]", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => Functional.Conv2d(x, w3, stride: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Functional.Conv2d(x, w3, padding: -1));
    }

    internal static (double[] Values, double[] Scale) WeightGradientReference(ConvCase c, float[] x, float[] g)
    {
        var dw = new double[c.O * c.C * c.Kh * c.Kw];
        var scale = new double[dw.Length];
        for (int n = 0; n < c.N; n++)
        for (int o = 0; o < c.O; o++)
        for (int oy = 0; oy < c.Ho; oy++)
        for (int ox = 0; ox < c.Wo; ox++)
        for (int ch = 0; ch < c.C; ch++)
        for (int i = 0; i < c.Kh; i++)
        for (int j = 0; j < c.Kw; j++)
        {
            int yy = oy * c.Stride - c.Padding + i, xx = ox * c.Stride - c.Padding + j;
            if (yy < 0 || yy >= c.H || xx < 0 || xx >= c.W) continue;
            double t = (double)g[((n * c.O + o) * c.Ho + oy) * c.Wo + ox] * x[((n * c.C + ch) * c.H + yy) * c.W + xx];
            int at = ((o * c.C + ch) * c.Kh + i) * c.Kw + j;
            dw[at] += t;
            scale[at] += Math.Abs(t);
        }
        return (dw, scale);
    }

    internal static (double[] Values, double[] Scale) InputGradientReference(ConvCase c, float[] w, float[] g)
    {
        var dx = new double[c.N * c.C * c.H * c.W];
        var scale = new double[dx.Length];
        for (int n = 0; n < c.N; n++)
        for (int o = 0; o < c.O; o++)
        for (int oy = 0; oy < c.Ho; oy++)
        for (int ox = 0; ox < c.Wo; ox++)
        for (int ch = 0; ch < c.C; ch++)
        for (int i = 0; i < c.Kh; i++)
        for (int j = 0; j < c.Kw; j++)
        {
            int yy = oy * c.Stride - c.Padding + i, xx = ox * c.Stride - c.Padding + j;
            if (yy < 0 || yy >= c.H || xx < 0 || xx >= c.W) continue;
            double t = (double)g[((n * c.O + o) * c.Ho + oy) * c.Wo + ox] * w[((o * c.C + ch) * c.Kh + i) * c.Kw + j];
            int at = ((n * c.C + ch) * c.H + yy) * c.W + xx;
            dx[at] += t;
            scale[at] += Math.Abs(t);
        }
        return (dx, scale);
    }
}
