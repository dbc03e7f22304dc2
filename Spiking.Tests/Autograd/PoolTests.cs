using System;
using Spiking.Autograd;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Autograd;

public sealed class PoolTests
{
    public static TheoryData<int[], int, int?> Cases() => new()
    {
        { [2, 3, 6, 6], 2, null },
        { [1, 2, 7, 9], 3, 2 },
        { [2, 1, 5, 70], 2, 1 },
        { [1, 2, 4, 131], 3, null },
        { [3, 2, 5, 5], 5, null },
        { [1, 1, 6, 66], 2, 3 },
    };

    private static (double[] Values, int[] ArgMax) Naive(float[] x, int[] d, int k, int s, bool max)
    {
        int ho = (d[2] - k) / s + 1, wo = (d[3] - k) / s + 1;
        var y = new double[d[0] * d[1] * ho * wo];
        var arg = new int[y.Length];
        for (int p = 0; p < d[0] * d[1]; p++)
        for (int oy = 0; oy < ho; oy++)
        for (int ox = 0; ox < wo; ox++)
        {
            double acc = max ? double.NegativeInfinity : 0;
            int best = -1;
            for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
            {
                int at = (p * d[2] + oy * s + i) * d[3] + ox * s + j;
                if (max && x[at] > acc) (acc, best) = (x[at], at);
                if (!max) acc += x[at];
            }
            int o = (p * ho + oy) * wo + ox;
            y[o] = max ? acc : acc / (k * k);
            arg[o] = best;
        }
        return (y, arg);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Dense_forward_and_backward_match_naive(int[] dims, int kernel, int? stride)
    {
        var tc = new TensorCase(dims, 5);
        var x = tc.Values();
        int s = stride ?? kernel;
        foreach (bool max in new[] { true, false })
        {
            using var xv = Variable.Parameter(Tensor.FromArray(x, dims));
            using var y = max ? Functional.MaxPool2d(xv, kernel, stride) : Functional.AvgPool2d(xv, kernel, stride);
            var (expected, arg) = Naive(x, dims, kernel, s, max);
            Assert.Equal(new Shape(dims[0], dims[1], (dims[2] - kernel) / s + 1, (dims[3] - kernel) / s + 1), y.Shape);
            Reference.AssertClose(expected, y.Dense.AsReadOnlySpan(), default, 1e-6, 1e-6, $"{tc} k{kernel} s{s} max {max}");
            var g = new TensorCase(y.Shape.Dimensions.ToArray(), 9).Values();
            using (var seed = Tensor.FromArray(g, y.Shape.Dimensions.ToArray())) y.Backward(seed);
            var dx = new double[x.Length];
            for (int o = 0; o < g.Length; o++)
            {
                if (max)
                {
                    dx[arg[o]] += g[o];
                    continue;
                }
                int ho = y.Shape[2], wo = y.Shape[3], p = o / (ho * wo), oy = o / wo % ho, ox = o % wo;
                for (int i = 0; i < kernel; i++)
                for (int j = 0; j < kernel; j++) dx[(p * dims[2] + oy * s + i) * dims[3] + ox * s + j] += g[o] / (kernel * kernel);
            }
            Reference.AssertClose(dx, xv.Grad!.AsReadOnlySpan(), default, 1e-5, 1e-6, $"{tc} k{kernel} s{s} max {max} dx");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Spike_pooling_equals_dense_pooling_on_the_same_bits(int[] dims, int kernel, int? stride)
    {
        foreach (double rate in new[] { 0.0, 0.1, 0.5, 1.0 })
        {
            var bits = new SpikeCase(dims[0] * dims[1] * dims[2], dims[3], rate, 3).Dense();
            var what = $"{Shape.Format(dims)} k{kernel} s{stride} rate {rate}";
            using var u = Variable.Parameter(Tensor.FromArray(ShapeOpTests.Shifted(bits), dims));
            using var spikes = SpikeSourceNode.Apply(u);
            using var xd = Variable.Parameter(Tensor.FromArray(bits, dims));

            using var ms = Functional.MaxPool2d(spikes, kernel, stride);
            using var md = Functional.MaxPool2d(xd, kernel, stride);
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
            using var avs = Functional.AvgPool2d(spikes, kernel, stride);
            using var avd = Functional.AvgPool2d(xd, kernel, stride);
            Assert.False(avs.IsSpikes);
            Reference.AssertBitwise(avd.Dense.AsReadOnlySpan(), avs.Dense.AsReadOnlySpan(), $"{what} avg");
            using (var seed = Tensor.FromArray(g, md.Shape.Dimensions.ToArray())) avs.Backward(seed);
            using (var seed = Tensor.FromArray(g, md.Shape.Dimensions.ToArray())) avd.Backward(seed);
            Reference.AssertBitwise(xd.Grad!.AsReadOnlySpan(), u.Grad!.AsReadOnlySpan(), $"{what} avg dx");
        }
    }

    [Fact]
    public void Ties_send_the_gradient_to_the_first_maximum_in_row_major_order()
    {
        // Window 0 ties at (0,1) and (1,0): row-major order picks (0,1). Window 1 is all zero: its first element.
        float[] x = [0, 2, 0, 0,
                     2, 1, 0, 0];
        using var xv = Variable.Parameter(Tensor.FromArray(x, 1, 1, 2, 4));
        using var y = Functional.MaxPool2d(xv, 2);
        Assert.Equal([2f, 0f], y.Dense.ToArray());
        using (var seed = Tensor.FromArray([10f, 20f], 1, 1, 1, 2)) y.Backward(seed);
        Assert.Equal([0f, 10f, 20f, 0f, 0f, 0f, 0f, 0f], xv.Grad!.ToArray());

        using var u = Variable.Parameter(Tensor.FromArray(ShapeOpTests.Shifted([0, 1, 0, 0, 1, 1, 0, 0]), 1, 1, 2, 4));
        using var spikes = SpikeSourceNode.Apply(u);
        using var ys = Functional.MaxPool2d(spikes, 2);
        Assert.True(ys.Spikes![0, 0, 0, 0]);
        Assert.False(ys.Spikes![0, 0, 0, 1]);
        using (var seed = Tensor.FromArray([10f, 20f], 1, 1, 1, 2)) ys.Backward(seed);
        Assert.Equal([0f, 10f, 20f, 0f, 0f, 0f, 0f, 0f], u.Grad!.ToArray());
    }

    [Theory]
    [InlineData(2, null)]
    [InlineData(3, 2)]
    [InlineData(2, 1)]
    public void Dense_gradients_pass_the_gradient_check(int kernel, int? stride)
    {
        // Distinct values spaced well beyond the finite-difference step, so no perturbation changes a window's maximum.
        var v = new float[2 * 2 * 6 * 7];
        for (int i = 0; i < v.Length; i++) v[i] = (i * 37 % v.Length) * 0.1f - 8f;
        GradAssert.Passes(x => Functional.MaxPool2d(x[0], kernel, stride), $"max k{kernel} s{stride}", Tensor.FromArray(v, 2, 2, 6, 7));
        GradAssert.Passes(x => Functional.AvgPool2d(x[0], kernel, stride), $"avg k{kernel} s{stride}", Tensor.FromArray(v, 2, 2, 6, 7));
    }

    [Fact]
    public void Shape_errors_name_the_shapes()
    {
        using var x = Variable.Constant(Tensor.Zeros(2, 3, 4, 4));
        var e = Assert.Throws<ArgumentException>(() => Functional.MaxPool2d(x, 5));
        Assert.Contains("[2, 3, 4, 4]", e.Message, StringComparison.Ordinal);
        using var flat = Variable.Constant(Tensor.Zeros(3, 4, 4));
        e = Assert.Throws<ArgumentException>(() => Functional.AvgPool2d(flat, 2));
        Assert.Contains("[3, 4, 4]", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => Functional.MaxPool2d(x, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Functional.AvgPool2d(x, 2, 0));
    }
}
