using System;
using FsCheck.Xunit;
using Spiking.Autograd;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Autograd;

public sealed class SpikingAttentionTests
{
    [Property(Arbitrary = new[] { typeof(SpikingAttentionGenerators) }, MaxTest = 40)]
    public void Spike_path_is_exact_and_equals_the_dense_path(SpikingAttentionCase c)
    {
        float[] q = c.Bits(1), k = c.Bits(2), v = c.Bits(3);
        var (sums, _) = Attention(q, k, v, c);
        foreach (float scale in new[] { 0.125f, 0.3f })
        {
            using var qs = SpikeInput(q, c);
            using var ks = SpikeInput(k, c);
            using var vs = SpikeInput(v, c);
            using var spikes = Functional.SpikingAttention(qs, ks, vs, scale);
            using var qd = Variable.Constant(Tensor.FromArray(q, c.Dims));
            using var kd = Variable.Constant(Tensor.FromArray(k, c.Dims));
            using var vd = Variable.Constant(Tensor.FromArray(v, c.Dims));
            using var dense = Functional.SpikingAttention(qd, kd, vd, scale);
            Assert.Equal(new Shape(c.Dims), spikes.Shape);
            Assert.False(spikes.IsSpikes);
            // The sums are integers, so the only rounding is the one multiply by the scale.
            var expected = new float[sums.Length];
            for (int i = 0; i < expected.Length; i++) expected[i] = (float)sums[i] * scale;
            Reference.AssertBitwise(expected, spikes.Dense.AsReadOnlySpan(), $"{c} spike path, scale {scale}");
            Reference.AssertBitwise(expected, dense.Dense.AsReadOnlySpan(), $"{c} dense path, scale {scale}");
        }
    }

    [Property(Arbitrary = new[] { typeof(SpikingAttentionGenerators) }, MaxTest = 30)]
    public void Dense_forward_matches_double(SpikingAttentionCase c)
    {
        float[] q = c.Normal(1), k = c.Normal(2), v = c.Normal(3);
        const float scale = 0.125f;
        var (sums, magnitude) = Attention(q, k, v, c);
        using var qd = Variable.Constant(Tensor.FromArray(q, c.Dims));
        using var kd = Variable.Constant(Tensor.FromArray(k, c.Dims));
        using var vd = Variable.Constant(Tensor.FromArray(v, c.Dims));
        using var y = Functional.SpikingAttention(qd, kd, vd, scale);
        var expected = new double[sums.Length];
        var tolerance = new double[sums.Length];
        for (int i = 0; i < sums.Length; i++)
        {
            expected[i] = sums[i] * scale;
            tolerance[i] = magnitude[i] * scale;
        }
        Reference.AssertClose(expected, y.Dense.AsReadOnlySpan(), tolerance, 1e-5, 1e-6, $"{c}");
    }

    [Property(Arbitrary = new[] { typeof(SmallSpikingAttentionGenerators) }, MaxTest = 20)]
    public void Dense_gradients_of_q_k_and_v(SpikingAttentionCase c)
    {
        GradAssert.Passes(x => Functional.SpikingAttention(x[0], x[1], x[2], 0.125f), $"{c}",
            Tensor.FromArray(c.Normal(1), c.Dims), Tensor.FromArray(c.Normal(2), c.Dims), Tensor.FromArray(c.Normal(3), c.Dims));
        GradAssert.Passes(x => Functional.SpikingAttention(x[0], x[1], x[2], -0.7f), $"{c}, scale -0.7",
            Tensor.FromArray(c.Normal(4), c.Dims), Tensor.FromArray(c.Normal(5), c.Dims), Tensor.FromArray(c.Normal(6), c.Dims));
    }

    [Property(Arbitrary = new[] { typeof(SpikingAttentionGenerators) }, MaxTest = 25)]
    public void Spike_gradients_equal_the_dense_gradients(SpikingAttentionCase c)
    {
        float[] q = c.Bits(1), k = c.Bits(2), v = c.Bits(3), g = c.Normal(4);
        var (dense, output) = DenseGradients(q, k, v, g, c, [true, true, true]);
        var (spikes, spikeOutput) = SpikeGradients(q, k, v, g, c, [true, true, true]);
        Reference.AssertBitwise(output, spikeOutput, $"{c} output");
        string[] names = ["dQ", "dK", "dV"];
        for (int i = 0; i < 3; i++) Reference.AssertBitwise(dense[i]!, spikes[i]!, $"{c} {names[i]}");
        var expected = GradientReference(q, k, v, g, c, 0.125f);
        var magnitude = GradientReference(q, k, v, MatMulTests.Abs(g), c, 0.125f);
        for (int i = 0; i < 3; i++) Reference.AssertClose(expected[i], dense[i], magnitude[i], 1e-5, 1e-6, $"{c} {names[i]} vs double");
    }

    [Theory]
    [InlineData(true, false, false)]
    [InlineData(false, true, false)]
    [InlineData(false, false, true)]
    [InlineData(true, false, true)]
    public void Gradients_of_some_inputs_equal_those_of_all(bool wantQ, bool wantK, bool wantV)
    {
        var c = new SpikingAttentionCase(2, 3, 7, 70, 0.3, 11);
        float[] q = c.Bits(1), k = c.Bits(2), v = c.Bits(3), g = c.Normal(4);
        bool[] want = [wantQ, wantK, wantV];
        var (all, _) = DenseGradients(q, k, v, g, c, [true, true, true]);
        var (denseSome, _) = DenseGradients(q, k, v, g, c, want);
        var (spikeSome, _) = SpikeGradients(q, k, v, g, c, want);
        for (int i = 0; i < 3; i++)
        {
            if (!want[i])
            {
                Assert.Null(denseSome[i]);
                Assert.Null(spikeSome[i]);
                continue;
            }
            Reference.AssertBitwise(all[i]!, denseSome[i]!, $"dense input {i}");
            Reference.AssertBitwise(all[i]!, spikeSome[i]!, $"spike input {i}");
        }
    }

    [Fact]
    public void Bad_shapes_and_kinds_are_named()
    {
        using var good = Variable.Constant(Tensor.Zeros(2, 3, 5, 8));
        using var rank3 = Variable.Constant(Tensor.Zeros(2, 5, 8));
        var e = Assert.Throws<ArgumentException>(() => Functional.SpikingAttention(rank3, good, good, 0.125f));
        Assert.Equal("q", e.ParamName);
        Assert.Contains("[2, 5, 8]", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => Functional.SpikingAttention(good, good, rank3, 0.125f));
        Assert.Equal("v", e.ParamName);

        int[][] others = [[1, 3, 5, 8], [2, 4, 5, 8], [2, 3, 6, 8], [2, 3, 5, 9]];
        foreach (var dims in others)
        {
            using var other = Variable.Constant(Tensor.Zeros(dims));
            e = Assert.Throws<ArgumentException>(() => Functional.SpikingAttention(good, other, good, 0.125f));
            Assert.Equal("k", e.ParamName);
            Assert.Contains("[2, 3, 5, 8]", e.Message, StringComparison.Ordinal);
            Assert.Contains(Shape.Format(dims), e.Message, StringComparison.Ordinal);
            e = Assert.Throws<ArgumentException>(() => Functional.SpikingAttention(good, good, other, 0.125f));
            Assert.Equal("v", e.ParamName);
            Assert.Contains(Shape.Format(dims), e.Message, StringComparison.Ordinal);
        }

        using var spikes = Variable.Constant(SpikeTensor.Zeros(2, 3, 5, 8));
        e = Assert.Throws<ArgumentException>(() => Functional.SpikingAttention(spikes, spikes, good, 0.125f));
        Assert.Equal("v", e.ParamName);
        Assert.Contains("v is dense", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => Functional.SpikingAttention(good, good, good, float.NaN));
        Assert.Equal("scale", e.ParamName);
    }

    internal static Variable SpikeInput(float[] bits, SpikingAttentionCase c)
    {
        using var dense = Tensor.FromArray(bits, c.Dims);
        return Variable.Constant(SpikeTensor.FromBinary(dense));
    }

    /// <summary>The gradients of the inputs marked in <paramref name="want"/> (null elsewhere) and the output, on the dense path (masked when <paramref name="causal"/>).</summary>
    internal static (float[]?[] Grads, float[] Output) DenseGradients(float[] q, float[] k, float[] v, float[] g, SpikingAttentionCase c, bool[] want, bool causal = false)
    {
        using var qd = Leaf(q, c, want[0]);
        using var kd = Leaf(k, c, want[1]);
        using var vd = Leaf(v, c, want[2]);
        using var y = Functional.SpikingAttention(qd, kd, vd, 0.125f, causal);
        var output = y.Dense.ToArray();
        using (var seed = Tensor.FromArray(g, c.Dims)) y.Backward(seed);
        return ([qd.Grad?.ToArray(), kd.Grad?.ToArray(), vd.Grad?.ToArray()], output);
    }

    /// <summary>As <see cref="DenseGradients"/> with spike inputs, whose gradients reach the potentials behind them straight through.</summary>
    internal static (float[]?[] Grads, float[] Output) SpikeGradients(float[] q, float[] k, float[] v, float[] g, SpikingAttentionCase c, bool[] want, bool causal = false)
    {
        using var qu = Leaf(ShapeOpTests.Shifted(q), c, want[0]);
        using var ku = Leaf(ShapeOpTests.Shifted(k), c, want[1]);
        using var vu = Leaf(ShapeOpTests.Shifted(v), c, want[2]);
        using var qs = SpikeSourceNode.Apply(qu);
        using var ks = SpikeSourceNode.Apply(ku);
        using var vs = SpikeSourceNode.Apply(vu);
        Assert.True(qs.IsSpikes && ks.IsSpikes && vs.IsSpikes);
        using var y = Functional.SpikingAttention(qs, ks, vs, 0.125f, causal);
        var output = y.Dense.ToArray();
        using (var seed = Tensor.FromArray(g, c.Dims)) y.Backward(seed);
        return ([qu.Grad?.ToArray(), ku.Grad?.ToArray(), vu.Grad?.ToArray()], output);
    }

    private static Variable Leaf(float[] values, SpikingAttentionCase c, bool requiresGrad) =>
        requiresGrad ? Variable.Parameter(Tensor.FromArray(values, c.Dims)) : Variable.Constant(Tensor.FromArray(values, c.Dims));

    /// <summary>
    /// Naive double <c>(Q·Kᵀ)·V</c> per sample and head, before the scale, and the sum of the absolute values of
    /// its terms (the magnitude float rounding works against).
    /// </summary>
    private static (double[] Sums, double[] Magnitude) Attention(float[] q, float[] k, float[] v, SpikingAttentionCase c)
    {
        int l = c.L, d = c.D;
        var sums = new double[c.Count];
        var magnitude = new double[c.Count];
        for (int head = 0; head < c.N * c.H; head++)
        {
            int o = head * l * d;
            for (int i = 0; i < l; i++)
            {
                for (int j = 0; j < l; j++)
                {
                    double a = 0, absA = 0;
                    for (int e = 0; e < d; e++)
                    {
                        a += (double)q[o + i * d + e] * k[o + j * d + e];
                        absA += Math.Abs((double)q[o + i * d + e] * k[o + j * d + e]);
                    }
                    for (int e = 0; e < d; e++)
                    {
                        sums[o + i * d + e] += a * v[o + j * d + e];
                        magnitude[o + i * d + e] += absA * Math.Abs(v[o + j * d + e]);
                    }
                }
            }
        }
        return (sums, magnitude);
    }

    /// <summary>Naive double dQ, dK, dV of <c>s·(Q·Kᵀ)·V</c> for output gradient G.</summary>
    private static double[][] GradientReference(float[] q, float[] k, float[] v, float[] g, SpikingAttentionCase c, double scale)
    {
        int l = c.L, d = c.D;
        double[] dq = new double[c.Count], dk = new double[c.Count], dv = new double[c.Count];
        for (int head = 0; head < c.N * c.H; head++)
        {
            int o = head * l * d;
            for (int i = 0; i < l; i++)
            {
                for (int j = 0; j < l; j++)
                {
                    double a = 0, da = 0;
                    for (int e = 0; e < d; e++)
                    {
                        a += (double)q[o + i * d + e] * k[o + j * d + e];
                        da += scale * g[o + i * d + e] * v[o + j * d + e];
                    }
                    for (int e = 0; e < d; e++)
                    {
                        dv[o + j * d + e] += scale * a * g[o + i * d + e];
                        dq[o + i * d + e] += da * k[o + j * d + e];
                        dk[o + j * d + e] += da * q[o + i * d + e];
                    }
                }
            }
        }
        return [dq, dk, dv];
    }
}
