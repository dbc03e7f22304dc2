using System;
using Spiking.Autograd;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Autograd;

/// <summary>Padded pooling (PyTorch's <c>MaxPool2d(k, s, p)</c> / <c>AvgPool2d(k, s, p)</c>) against a naive double reference.</summary>
public sealed class PoolPaddingTests
{
    public static TheoryData<int[], int, int, int> Cases() => new()
    {
        { [2, 3, 28, 28], 3, 2, 1 },
        { [1, 2, 14, 14], 3, 2, 1 },
        { [2, 2, 7, 7], 3, 2, 1 },
        { [1, 2, 5, 129], 3, 2, 1 },
        { [1, 2, 7, 9], 3, 1, 1 },
        { [2, 1, 6, 70], 2, 2, 1 },
        { [1, 2, 5, 131], 5, 3, 2 },
        { [1, 1, 1, 3], 3, 1, 1 },
    };

    /// <summary>
    /// Pooling by the definition: max over the real elements of each window (−∞ padding; the first strict
    /// maximum in row-major order), or their sum over k² (padding counted as zeros).
    /// </summary>
    private static (double[] Values, int[] ArgMax) Naive(float[] x, int[] d, int k, int s, int p, bool max)
    {
        int ho = (d[2] + 2 * p - k) / s + 1, wo = (d[3] + 2 * p - k) / s + 1;
        var y = new double[d[0] * d[1] * ho * wo];
        var arg = new int[y.Length];
        for (int plane = 0; plane < d[0] * d[1]; plane++)
        for (int oy = 0; oy < ho; oy++)
        for (int ox = 0; ox < wo; ox++)
        {
            double acc = max ? double.NegativeInfinity : 0;
            int best = -1;
            foreach (int at in Window(d, k, s, p, plane, oy, ox))
            {
                if (max && x[at] > acc) (acc, best) = (x[at], at);
                if (!max) acc += x[at];
            }
            int o = (plane * ho + oy) * wo + ox;
            y[o] = max ? acc : acc / (k * k);
            arg[o] = best;
        }
        return (y, arg);
    }

    /// <summary>The flat indices of the real elements of one window, in row-major order.</summary>
    private static System.Collections.Generic.List<int> Window(int[] d, int k, int s, int p, int plane, int oy, int ox)
    {
        var at = new System.Collections.Generic.List<int>();
        for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++)
        {
            int y = oy * s - p + i, x = ox * s - p + j;
            if (y >= 0 && y < d[2] && x >= 0 && x < d[3]) at.Add((plane * d[2] + y) * d[3] + x);
        }
        return at;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Dense_forward_and_backward_match_naive(int[] dims, int kernel, int stride, int padding)
    {
        var tc = new TensorCase(dims, 6);
        var x = tc.Values();
        foreach (bool max in new[] { true, false })
        {
            var what = $"{tc} k{kernel} s{stride} p{padding} max {max}";
            using var xv = Variable.Parameter(Tensor.FromArray(x, dims));
            using var y = max ? Functional.MaxPool2d(xv, kernel, stride, padding) : Functional.AvgPool2d(xv, kernel, stride, padding);
            var (expected, arg) = Naive(x, dims, kernel, stride, padding, max);
            int ho = (dims[2] + 2 * padding - kernel) / stride + 1, wo = (dims[3] + 2 * padding - kernel) / stride + 1;
            Assert.Equal(new Shape(dims[0], dims[1], ho, wo), y.Shape);
            Reference.AssertClose(expected, y.Dense.AsReadOnlySpan(), default, 1e-6, 1e-6, what);

            var g = new TensorCase(y.Shape.Dimensions.ToArray(), 11).Values();
            using (var seed = Tensor.FromArray(g, y.Shape.Dimensions.ToArray())) y.Backward(seed);
            var dx = new double[x.Length];
            for (int o = 0; o < g.Length; o++)
            {
                if (max)
                {
                    dx[arg[o]] += g[o];
                    continue;
                }
                int plane = o / (ho * wo), oy = o / wo % ho, ox = o % wo;
                foreach (int at in Window(dims, kernel, stride, padding, plane, oy, ox)) dx[at] += g[o] / (double)(kernel * kernel);
            }
            Reference.AssertClose(dx, xv.Grad!.AsReadOnlySpan(), default, 1e-5, 1e-6, what + " dx");
        }
    }

    [Theory]
    [InlineData(28, 14)]
    [InlineData(14, 7)]
    [InlineData(7, 4)]
    public void Spikformer_pooling_halves_even_and_odd_sizes(int size, int expected)
    {
        using var x = Variable.Constant(Tensor.Zeros(1, 2, size, size));
        using var max = Functional.MaxPool2d(x, 3, 2, 1);
        using var avg = Functional.AvgPool2d(x, 3, 2, 1);
        Assert.Equal(new Shape(1, 2, expected, expected), max.Shape);
        Assert.Equal(new Shape(1, 2, expected, expected), avg.Shape);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Spike_pooling_equals_dense_pooling_on_the_same_bits(int[] dims, int kernel, int stride, int padding)
    {
        foreach (double rate in new[] { 0.0, 0.1, 0.5, 1.0 })
        {
            var bits = new SpikeCase(dims[0] * dims[1] * dims[2], dims[3], rate, 8).Dense();
            var what = $"{Shape.Format(dims)} k{kernel} s{stride} p{padding} rate {rate}";
            using var u = Variable.Parameter(Tensor.FromArray(ShapeOpTests.Shifted(bits), dims));
            using var spikes = SpikeSourceNode.Apply(u);
            using var xd = Variable.Parameter(Tensor.FromArray(bits, dims));

            using var ms = Functional.MaxPool2d(spikes, kernel, stride, padding);
            using var md = Functional.MaxPool2d(xd, kernel, stride, padding);
            Assert.True(ms.IsSpikes);
            Assert.Equal(md.Shape, ms.Shape);
            using var expectedBits = SpikeTensor.FromBinary(md.Dense);
            Assert.Equal(expectedBits.Words.ToArray(), ms.Spikes!.Words.ToArray());
            var g = new TensorCase(md.Shape.Dimensions.ToArray(), 4).Values();
            using (var seed = Tensor.FromArray(g, md.Shape.Dimensions.ToArray())) ms.Backward(seed, retainGraph: true);
            using (var seed = Tensor.FromArray(g, md.Shape.Dimensions.ToArray())) md.Backward(seed);
            Reference.AssertBitwise(xd.Grad!.AsReadOnlySpan(), u.Grad!.AsReadOnlySpan(), $"{what} max dx");

            u.ZeroGrad();
            xd.ZeroGrad();
            using var avs = Functional.AvgPool2d(spikes, kernel, stride, padding);
            using var avd = Functional.AvgPool2d(xd, kernel, stride, padding);
            Assert.False(avs.IsSpikes);
            Reference.AssertBitwise(avd.Dense.AsReadOnlySpan(), avs.Dense.AsReadOnlySpan(), $"{what} avg");
            using (var seed = Tensor.FromArray(g, md.Shape.Dimensions.ToArray())) avs.Backward(seed);
            using (var seed = Tensor.FromArray(g, md.Shape.Dimensions.ToArray())) avd.Backward(seed);
            Reference.AssertBitwise(xd.Grad!.AsReadOnlySpan(), u.Grad!.AsReadOnlySpan(), $"{what} avg dx");
        }
    }

    [Fact]
    public void Padding_is_minus_infinity_and_ties_at_the_border_go_to_the_first_real_maximum()
    {
        // 3x3 windows at stride 2 with padding 1 over a 3x3 plane: each window sees a 2x2 corner. All values are
        // negative, so zero padding would win; the top-left corner ties at (0,1) and (1,0) and takes (0,1).
        float[] x = [-1f, -0.5f, -2f,
                     -0.5f, -3f, -4f,
                     -5f, -6f, -0.25f];
        using var xv = Variable.Parameter(Tensor.FromArray(x, 1, 1, 3, 3));
        using var y = Functional.MaxPool2d(xv, 3, 2, 1);
        Assert.Equal([-0.5f, -0.5f, -0.5f, -0.25f], y.Dense.ToArray());
        using (var seed = Tensor.FromArray([10f, 20f, 30f, 40f], 1, 1, 2, 2)) y.Backward(seed);
        Assert.Equal([0f, 30f, 0f, 30f, 0f, 0f, 0f, 0f, 40f], xv.Grad!.ToArray());
    }

    [Theory]
    [InlineData(new float[] { 0, 0, 0, 0, 0, 0, 0, 0, 0 }, new float[] { 0, 0, 0, 0 }, new float[] { 10, 20, 0, 30, 40, 0, 0, 0, 0 })]
    [InlineData(new float[] { 0, 1, 0, 1, 0, 0, 0, 0, 1 }, new float[] { 1, 1, 1, 1 }, new float[] { 0, 30, 0, 30, 0, 0, 0, 0, 40 })]
    public void Spike_windows_at_the_padded_border_send_the_gradient_to_their_first_real_maximum(float[] bits, float[] expectedY, float[] expectedDx)
    {
        // An all-zero window's gradient goes to its first real element: (0,0), (0,1), (1,0) and (1,1) for the four
        // corners; with spikes, to the first set bit in row-major order. Dense 0/1 input agrees.
        using var u = Variable.Parameter(Tensor.FromArray(ShapeOpTests.Shifted(bits), 1, 1, 3, 3));
        using var spikes = SpikeSourceNode.Apply(u);
        using var ys = Functional.MaxPool2d(spikes, 3, 2, 1);
        Assert.True(ys.IsSpikes);
        using (var dense = ys.ToDense()) Assert.Equal(expectedY, dense.ToArray());
        using (var seed = Tensor.FromArray([10f, 20f, 30f, 40f], 1, 1, 2, 2)) ys.Backward(seed);
        Assert.Equal(expectedDx, u.Grad!.ToArray());

        using var xd = Variable.Parameter(Tensor.FromArray(bits, 1, 1, 3, 3));
        using var yd = Functional.MaxPool2d(xd, 3, 2, 1);
        Assert.Equal(expectedY, yd.Dense.ToArray());
        using (var seed = Tensor.FromArray([10f, 20f, 30f, 40f], 1, 1, 2, 2)) yd.Backward(seed);
        Assert.Equal(expectedDx, xd.Grad!.ToArray());
    }

    [Fact]
    public void Average_pooling_counts_padding_in_the_divisor()
    {
        // 2x2 windows at stride 2 with padding 1 over a 2x2 plane: each window holds one real element and three
        // padding zeros, so it averages to a quarter of that element (count_include_pad=True).
        using var xv = Variable.Parameter(Tensor.FromArray([1f, 2f, 3f, 4f], 1, 1, 2, 2));
        using var y = Functional.AvgPool2d(xv, 2, 2, 1);
        Assert.Equal([0.25f, 0.5f, 0.75f, 1f], y.Dense.ToArray());
        using (var seed = Tensor.FromArray([4f, 8f, 12f, 16f], 1, 1, 2, 2)) y.Backward(seed);
        Assert.Equal([1f, 2f, 3f, 4f], xv.Grad!.ToArray());
    }

    [Theory]
    [InlineData(3, 2, 1)]
    [InlineData(3, 1, 1)]
    [InlineData(2, 1, 1)]
    [InlineData(5, 2, 2)]
    public void Dense_gradients_pass_the_gradient_check(int kernel, int stride, int padding)
    {
        // Distinct values spaced well beyond the finite-difference step, so no perturbation changes a window's maximum.
        var v = new float[2 * 2 * 6 * 7];
        for (int i = 0; i < v.Length; i++) v[i] = (i * 37 % v.Length) * 0.1f - 8f;
        var what = $"k{kernel} s{stride} p{padding}";
        GradAssert.Passes(x => Functional.MaxPool2d(x[0], kernel, stride, padding), "max " + what, Tensor.FromArray(v, 2, 2, 6, 7));
        GradAssert.Passes(x => Functional.AvgPool2d(x[0], kernel, stride, padding), "avg " + what, Tensor.FromArray(v, 2, 2, 6, 7));
    }

    [Fact]
    public void Padding_above_half_the_kernel_is_rejected_naming_the_values()
    {
        using var x = Variable.Constant(Tensor.Zeros(1, 1, 8, 8));
        var e = Assert.Throws<ArgumentException>(() => Functional.MaxPool2d(x, 3, 2, 2));
        Assert.Contains("padding is 2", e.Message, StringComparison.Ordinal);
        Assert.Contains("kernel 3", e.Message, StringComparison.Ordinal);
        Assert.Equal("padding", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => Functional.AvgPool2d(x, 2, 2, 2));
        Assert.Contains("padding is 2", e.Message, StringComparison.Ordinal);
        Assert.Contains("kernel 2", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => Functional.MaxPool2d(x, 3, 2, -1));

        e = Assert.Throws<ArgumentException>(() => new Spiking.Layers.MaxPool2d(3, 2, 2));
        Assert.Contains("padding is 2", e.Message, StringComparison.Ordinal);
        Assert.Contains("kernel size 3", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new Spiking.Layers.AvgPool2d(4, 1, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Spiking.Layers.AvgPool2d(3, 1, -1));

        using var tiny = Variable.Constant(Tensor.Zeros(1, 1, 2, 2));
        e = Assert.Throws<ArgumentException>(() => Functional.MaxPool2d(tiny, 5, 1, 1));
        Assert.Contains("[1, 1, 2, 2]", e.Message, StringComparison.Ordinal);
        Assert.Contains("padding 1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Modules_pass_padding_through_over_time_steps()
    {
        var values = new TensorCase([2, 3, 2, 7, 7], 12).Values();
        using var x = Variable.Constant(Tensor.FromArray(values, 2, 3, 2, 7, 7));
        using var folded = Variable.Constant(Tensor.FromArray(values, 6, 2, 7, 7));
        using var maxPool = new Spiking.Layers.MaxPool2d(3, 2, 1);
        using var avgPool = new Spiking.Layers.AvgPool2d(3, 2, 1);
        Assert.Equal(1, maxPool.Padding);
        using var ym = maxPool.Forward(x);
        using var ya = avgPool.Forward(x);
        using var em = Functional.MaxPool2d(folded, 3, 2, 1);
        using var ea = Functional.AvgPool2d(folded, 3, 2, 1);
        Assert.Equal(new Shape(2, 3, 2, 4, 4), ym.Shape);
        Assert.Equal(new Shape(2, 3, 2, 4, 4), ya.Shape);
        Reference.AssertBitwise(em.Dense.AsReadOnlySpan(), ym.Dense.AsReadOnlySpan(), "max module");
        Reference.AssertBitwise(ea.Dense.AsReadOnlySpan(), ya.Dense.AsReadOnlySpan(), "avg module");
    }
}
