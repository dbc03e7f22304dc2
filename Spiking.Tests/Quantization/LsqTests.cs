using System;
using System.Linq;
using Spiking.Autograd;
using Spiking.Layers;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Quantization;

public sealed class LsqTests
{
    /// <summary>
    /// A weight <c>[O, row]</c> with steps <c>[O]</c> whose quotients spread past both ends of the code range, with
    /// channel 0 on exact points: its step is 1/8, so w = k/8·… gives u = Qp, Qn (inside: the range is closed), ties
    /// ±2.5 and ±0.5 (half to even), and Qp + 0.5, Qn − 0.5 (outside).
    /// </summary>
    internal static (float[] Weight, float[] Alpha) Case(int outChannels, int row, int bits, int seed)
    {
        var (qn, qp) = NaiveLsq.Range(bits);
        var rng = new Random(seed);
        var alpha = new float[outChannels];
        var w = new float[outChannels * row];
        for (int o = 0; o < outChannels; o++)
        {
            alpha[o] = o == 0 ? 0.125f : (float)(0.05 + 0.2 * rng.NextDouble());
            for (int k = 0; k < row; k++) w[o * row + k] = (float)(Reference.Normal(rng) * alpha[o] * qp * 0.6);
        }
        double[] exact = [qp, qn, 2.5, -2.5, 0.5, -0.5, qp + 0.5, qn - 0.5];
        for (int i = 0; i < Math.Min(row, exact.Length); i++) w[i] = (float)(exact[i] / 8);
        return (w, alpha);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    public void Codes_are_the_rounded_clamped_float32_quotients(int bits)
    {
        var (w, alpha) = Case(6, 40, bits, seed: bits);
        var codes = new float[w.Length];
        Lsq.Codes(w, alpha, bits, codes);
        var expected = NaiveLsq.Codes(w, alpha, bits);
        var (qn, qp) = NaiveLsq.Range(bits);
        Assert.Equal(expected, codes.Select(c => (double)c));
        Assert.Equal([qp, qn, 2, -2, 0, -0.0, qp, qn], codes.Take(8).Select(c => (double)c));
        Assert.Contains(expected, c => c == qp);
        Assert.Contains(expected, c => c == qn);
        Assert.Equal(qn, Lsq.MinCode(bits));
        Assert.Equal(qp, Lsq.MaxCode(bits));
        Assert.Equal(1.0 / Math.Sqrt(240 * qp), Lsq.GradScale(240, bits), 15);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    public void Linear_values_and_gradients_follow_the_official_funlsq(int bits)
    {
        const int rows = 6, inFeatures = 24, outFeatures = 5;
        var (w, alpha) = Case(outFeatures, inFeatures, bits, seed: 10 + bits);
        var rng = new Random(bits);
        var x = Enumerable.Range(0, rows * inFeatures).Select(_ => (float)Reference.Normal(rng)).ToArray();
        var g = Enumerable.Range(0, rows * outFeatures).Select(_ => (float)Reference.Normal(rng)).ToArray();
        using var weight = Variable.Input(Tensor.FromArray(w, outFeatures, inFeatures));
        using var step = Variable.Input(Tensor.FromArray(alpha, outFeatures));
        using var input = Variable.Input(Tensor.FromArray(x, rows, inFeatures));
        var y = Functional.LsqProduct(weight, step, bits, q => Functional.Linear(input, q), outputAxis: -1);
        y.Backward(Tensor.FromArray(g, rows, outFeatures));

        var q = NaiveLsq.Codes(w, alpha, bits);
        var value = new double[rows * outFeatures];
        var valueScale = new double[value.Length];
        var gradQuantized = new double[w.Length];
        var dx = new double[x.Length];
        var dxScale = new double[x.Length];
        for (int n = 0; n < rows; n++)
        {
            for (int o = 0; o < outFeatures; o++)
            {
                for (int c = 0; c < inFeatures; c++)
                {
                    double wq = q[o * inFeatures + c] * alpha[o];
                    value[n * outFeatures + o] += x[n * inFeatures + c] * wq;
                    valueScale[n * outFeatures + o] += Math.Abs(x[n * inFeatures + c] * wq);
                    gradQuantized[o * inFeatures + c] += (double)g[n * outFeatures + o] * x[n * inFeatures + c];
                    dx[n * inFeatures + c] += g[n * outFeatures + o] * wq;
                    dxScale[n * inFeatures + c] += Math.Abs(g[n * outFeatures + o] * wq);
                }
            }
        }
        var (dw, da, daScale) = NaiveLsq.FunLsqBackward(w, alpha, gradQuantized, bits);
        var dwScale = new double[w.Length];
        for (int o = 0; o < outFeatures; o++)
        {
            for (int c = 0; c < inFeatures; c++)
            {
                for (int n = 0; n < rows; n++) dwScale[o * inFeatures + c] += Math.Abs((double)g[n * outFeatures + o] * x[n * inFeatures + c]);
            }
        }
        Reference.AssertClose(value, y.Dense.AsReadOnlySpan(), valueScale, 1e-6, 1e-7, "y");
        Reference.AssertClose(dx, input.Grad!.AsReadOnlySpan(), dxScale, 1e-6, 1e-7, "dL/dx");
        Reference.AssertClose(dw, weight.Grad!.AsReadOnlySpan(), dwScale, 1e-6, 1e-7, "dL/dw");
        Reference.AssertClose(da, step.Grad!.AsReadOnlySpan(), daScale, 1e-5, 1e-7, "dL/dalpha");
        Assert.Contains(dw, v => v == 0); // some codes lie outside the range and pass no weight gradient
        Assert.All(da, v => Assert.NotEqual(0, v));
    }

    [Theory]
    [InlineData(1, 4, 1, 1)]
    [InlineData(1, 8, 2, 1)]
    [InlineData(6, 4, 1, 3)] // depthwise
    public void Convolution_gradients_equal_the_official_graph_through_funlsq(int groups, int bits, int stride, int padding)
    {
        const int images = 3, channels = 6, size = 7, kernel = 3;
        int outChannels = groups == 1 ? 4 : channels, inPerGroup = channels / groups;
        var (w, alpha) = Case(outChannels, inPerGroup * kernel * kernel, bits, seed: groups * 10 + bits);
        var rng = new PhiloxGenerator((ulong)(groups + bits));
        using var xs = rng.Normal(new Shape(images, channels, size, size));
        var weightShape = new Shape(outChannels, inPerGroup, kernel, kernel);
        Variable Convolve(Variable x, Variable weight) => groups == 1
            ? Functional.Conv2d(x, weight, null, stride, padding)
            : Functional.DepthwiseConv2d(x, weight, null, stride, padding);

        // The official graph: w_q = q·α as a float32 leaf, convolved by the engine's (separately tested) op.
        var q = NaiveLsq.Codes(w, alpha, bits);
        int row = w.Length / outChannels;
        var wq = q.Select((c, i) => (float)c * alpha[i / row]).ToArray();
        using var officialX = Variable.Input(xs.Clone());
        using var quantized = Variable.Input(Tensor.FromSpan(wq, weightShape));
        var official = Convolve(officialX, quantized);
        using var g = rng.Normal(official.Shape);
        official.Backward(g);
        var gradQuantized = quantized.Grad!.ToArray().Select(v => (double)v).ToArray();
        var (dw, da, daScale) = NaiveLsq.FunLsqBackward(w, alpha, gradQuantized, bits);

        using var input = Variable.Input(xs.Clone());
        using var weight = Variable.Input(Tensor.FromSpan(w, weightShape));
        using var step = Variable.Input(Tensor.FromArray(alpha, outChannels));
        var y = Functional.LsqProduct(weight, step, bits, codes => Convolve(input, codes), outputAxis: 1);
        y.Backward(g);

        var magnitude = official.Dense.ToArray().Select(v => Math.Abs(v) + 1.0).ToArray();
        Reference.AssertClose(official.Dense.ToArray().Select(v => (double)v).ToArray(), y.Dense.AsReadOnlySpan(), magnitude, 1e-5, 1e-6, "y");
        var dxRef = officialX.Grad!.ToArray().Select(v => (double)v).ToArray();
        Reference.AssertClose(dxRef, input.Grad!.AsReadOnlySpan(), dxRef.Select(v => Math.Abs(v) + 1.0).ToArray(), 1e-5, 1e-6, "dL/dx");
        Reference.AssertClose(dw, weight.Grad!.AsReadOnlySpan(), dw.Select(v => Math.Abs(v) + 1.0).ToArray(), 1e-5, 1e-6, "dL/dw");
        Reference.AssertClose(da, step.Grad!.AsReadOnlySpan(), daScale, 1e-5, 1e-7, "dL/dalpha");
    }

    [Fact]
    public void The_step_gradient_carries_the_grad_scale()
    {
        // One channel, one weight inside the range: dL/dα = g·(round(u) − u)·dL/dw_q with g = 1/√(numel·Qp).
        using var weight = Variable.Input(Tensor.FromArray([0.3f, 0f, 0f, 0f], 1, 4));
        using var step = Variable.Input(Tensor.FromArray([0.25f], 1));
        using var input = Variable.Input(Tensor.FromArray([2f, 0f, 0f, 0f], 1, 4));
        var y = Functional.LsqProduct(weight, step, 4, q => Functional.Linear(input, q), -1);
        y.Backward(Tensor.FromArray([1f], 1, 1));
        // u = 1.2, q = 1, y = 2·1·0.25; G_w = 2 at the first weight; g = 1/√(4·7).
        Assert.Equal(0.5f, y.Dense.AsReadOnlySpan()[0]);
        Assert.Equal((float)(2 * (1 - (double)(0.3f / 0.25f)) / Math.Sqrt(28)), step.Grad!.AsReadOnlySpan()[0], 6);
        Assert.Equal([2f, 0f, 0f, 0f], weight.Grad!.ToArray());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(16)]
    public void Widths_other_than_4_or_8_bits_are_refused_with_the_width_named(int bits)
    {
        void Refused(Func<object?> action)
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(action);
            Assert.Equal("bits", e.ParamName);
            Assert.Contains($"got {bits}", e.Message, StringComparison.Ordinal);
            Assert.Contains("4 bits", e.Message, StringComparison.Ordinal);
        }
        Refused(() => Lsq.MaxCode(bits));
        Refused(() => Lsq.CheckBits(bits, nameof(bits)));
        Refused(() => Functional.LsqProduct(Variable.Constant(Tensor.Zeros(2, 3)), Variable.Constant(Tensor.Ones(new Shape(2))), bits, q => q, 0));
        Refused(() => new LsqConv2d(2, 2, 3, bits: bits));
        Refused(() => new LsqConv1d(2, 2, bits: bits));
        Refused(() => new LsqLinear(2, 2, bits: bits));
    }

    [Fact]
    public void A_step_that_does_not_match_the_output_channels_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            Functional.LsqProduct(Variable.Constant(Tensor.Zeros(3, 4)), Variable.Constant(Tensor.Ones(new Shape(4))), 4, q => q, 0));
        Assert.Equal("alpha", e.ParamName);
        Assert.Contains("[4]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[3, 4]", e.Message, StringComparison.Ordinal);
        var axis = Assert.Throws<ArgumentException>(() =>
            Functional.LsqProduct(Variable.Constant(Tensor.Zeros(3, 4)), Variable.Constant(Tensor.Ones(new Shape(3))), 4, q => q, 1));
        Assert.Contains("axis 1 is 4 long", axis.Message, StringComparison.Ordinal);
    }
}
