using System;
using FsCheck.Xunit;
using Spiking.Autograd;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Autograd;

/// <summary><see cref="Functional.SpikingAttention"/> under the causal mask: query i sees the keys j ≤ i only.</summary>
public sealed class CausalSpikingAttentionTests
{
    [Property(Arbitrary = new[] { typeof(SpikingAttentionGenerators) }, MaxTest = 40)]
    public void Spike_path_is_exact_and_equals_the_dense_path(SpikingAttentionCase c)
    {
        float[] q = c.Bits(1), k = c.Bits(2), v = c.Bits(3);
        var (sums, _) = Reference.Attention(q, k, v, c.N * c.H, c.L, c.D, causal: true);
        foreach (float scale in new[] { 0.125f, 0.3f })
        {
            using var qs = SpikingAttentionTests.SpikeInput(q, c);
            using var ks = SpikingAttentionTests.SpikeInput(k, c);
            using var vs = SpikingAttentionTests.SpikeInput(v, c);
            using var spikes = Functional.SpikingAttention(qs, ks, vs, scale, causal: true);
            using var qd = Variable.Constant(Tensor.FromArray(q, c.Dims));
            using var kd = Variable.Constant(Tensor.FromArray(k, c.Dims));
            using var vd = Variable.Constant(Tensor.FromArray(v, c.Dims));
            using var dense = Functional.SpikingAttention(qd, kd, vd, scale, causal: true);
            Assert.Equal(new Shape(c.Dims), spikes.Shape);
            // Masked counts are integers too, so the one rounding is still the multiply by the scale.
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
        var (sums, magnitude) = Reference.Attention(q, k, v, c.N * c.H, c.L, c.D, causal: true);
        using var qd = Variable.Constant(Tensor.FromArray(q, c.Dims));
        using var kd = Variable.Constant(Tensor.FromArray(k, c.Dims));
        using var vd = Variable.Constant(Tensor.FromArray(v, c.Dims));
        using var y = Functional.SpikingAttention(qd, kd, vd, scale, causal: true);
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
        GradAssert.Passes(x => Functional.SpikingAttention(x[0], x[1], x[2], 0.125f, causal: true), $"{c}",
            Tensor.FromArray(c.Normal(1), c.Dims), Tensor.FromArray(c.Normal(2), c.Dims), Tensor.FromArray(c.Normal(3), c.Dims));
        GradAssert.Passes(x => Functional.SpikingAttention(x[0], x[1], x[2], -0.7f, causal: true), $"{c}, scale -0.7",
            Tensor.FromArray(c.Normal(4), c.Dims), Tensor.FromArray(c.Normal(5), c.Dims), Tensor.FromArray(c.Normal(6), c.Dims));
    }

    [Property(Arbitrary = new[] { typeof(SpikingAttentionGenerators) }, MaxTest = 25)]
    public void Spike_gradients_equal_the_dense_gradients_and_double(SpikingAttentionCase c)
    {
        float[] q = c.Bits(1), k = c.Bits(2), v = c.Bits(3), g = c.Normal(4);
        bool[] all = [true, true, true];
        var (dense, output) = SpikingAttentionTests.DenseGradients(q, k, v, g, c, all, causal: true);
        var (spikes, spikeOutput) = SpikingAttentionTests.SpikeGradients(q, k, v, g, c, all, causal: true);
        Reference.AssertBitwise(output, spikeOutput, $"{c} output");
        string[] names = ["dQ", "dK", "dV"];
        for (int i = 0; i < 3; i++) Reference.AssertBitwise(dense[i]!, spikes[i]!, $"{c} {names[i]}");
        int heads = c.N * c.H;
        var expected = Reference.AttentionGradients(q, k, v, g, heads, c.L, c.D, 0.125, causal: true);
        var magnitude = Reference.AttentionGradients(q, k, v, MatMulTests.Abs(g), heads, c.L, c.D, 0.125, causal: true);
        for (int i = 0; i < 3; i++) Reference.AssertClose(expected[i], dense[i], magnitude[i], 1e-5, 1e-6, $"{c} {names[i]} vs double");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Keys_and_values_after_the_last_query_with_gradient_get_none(bool spikeInputs)
    {
        // Only the outputs of tokens 0..last carry gradient: every key and value after 'last' must get exactly 0,
        // and the outputs up to 'last' must not move when those later keys and values change.
        var c = new SpikingAttentionCase(2, 3, 9, 70, 0.4, 17);
        const int last = 4;
        float[] q = c.Bits(1), k = c.Bits(2), v = c.Bits(3), g = c.Normal(4);
        int d = c.D, l = c.L;
        for (int head = 0; head < c.N * c.H; head++) Array.Clear(g, (head * l + last + 1) * d, (l - last - 1) * d);
        bool[] all = [true, true, true];
        var (grads, output) = spikeInputs
            ? SpikingAttentionTests.SpikeGradients(q, k, v, g, c, all, causal: true)
            : SpikingAttentionTests.DenseGradients(q, k, v, g, c, all, causal: true);
        bool anyNonzero = false;
        for (int head = 0; head < c.N * c.H; head++)
        {
            for (int j = 0; j < l; j++)
            {
                for (int e = 0; e < d; e++)
                {
                    int at = (head * l + j) * d + e;
                    if (j > last)
                    {
                        Assert.True(grads[1]![at] == 0f, $"dK at head {head}, token {j}, channel {e} is {grads[1]![at]}");
                        Assert.True(grads[2]![at] == 0f, $"dV at head {head}, token {j}, channel {e} is {grads[2]![at]}");
                        Assert.True(grads[0]![at] == 0f, $"dQ at head {head}, token {j}, channel {e} is {grads[0]![at]}");
                    }
                    else
                    {
                        anyNonzero |= grads[1]![at] != 0f || grads[2]![at] != 0f;
                    }
                }
            }
        }
        Assert.True(anyNonzero, "the unmasked keys and values should get gradient");

        // Flip every bit of k and v after 'last': the outputs up to 'last' stay the same bits.
        float[] k2 = (float[])k.Clone(), v2 = (float[])v.Clone();
        for (int head = 0; head < c.N * c.H; head++)
        {
            for (int at = (head * l + last + 1) * d; at < (head + 1) * l * d; at++)
            {
                k2[at] = 1f - k2[at];
                v2[at] = 1f - v2[at];
            }
        }
        var (_, changed) = spikeInputs
            ? SpikingAttentionTests.SpikeGradients(q, k2, v2, g, c, all, causal: true)
            : SpikingAttentionTests.DenseGradients(q, k2, v2, g, c, all, causal: true);
        for (int head = 0; head < c.N * c.H; head++)
        {
            int start = head * l * d, count = (last + 1) * d;
            Reference.AssertBitwise(output.AsSpan(start, count), changed.AsSpan(start, count), $"head {head}, tokens 0..{last}");
        }
    }

    [Fact]
    public void The_last_token_and_a_single_token_see_everything_as_without_the_mask()
    {
        var c = new SpikingAttentionCase(2, 2, 11, 65, 0.3, 3);
        float[] q = c.Bits(1), k = c.Bits(2), v = c.Bits(3);
        using var qs = SpikingAttentionTests.SpikeInput(q, c);
        using var ks = SpikingAttentionTests.SpikeInput(k, c);
        using var vs = SpikingAttentionTests.SpikeInput(v, c);
        using var masked = Functional.SpikingAttention(qs, ks, vs, 0.125f, causal: true);
        using var full = Functional.SpikingAttention(qs, ks, vs, 0.125f);
        for (int head = 0; head < c.N * c.H; head++)
        {
            int start = (head * c.L + c.L - 1) * c.D;
            Reference.AssertBitwise(full.Dense.AsReadOnlySpan().Slice(start, c.D), masked.Dense.AsReadOnlySpan().Slice(start, c.D), $"head {head}, last token");
        }

        var one = new SpikingAttentionCase(3, 2, 1, 9, 0.5, 4);
        using var q1 = SpikingAttentionTests.SpikeInput(one.Bits(1), one);
        using var k1 = SpikingAttentionTests.SpikeInput(one.Bits(2), one);
        using var v1 = SpikingAttentionTests.SpikeInput(one.Bits(3), one);
        using var maskedOne = Functional.SpikingAttention(q1, k1, v1, 0.125f, causal: true);
        using var fullOne = Functional.SpikingAttention(q1, k1, v1, 0.125f);
        Reference.AssertBitwise(fullOne.Dense.AsReadOnlySpan(), maskedOne.Dense.AsReadOnlySpan(), "L = 1");
    }

    [Fact]
    public void Bad_shapes_and_kinds_are_named()
    {
        using var good = Variable.Constant(Tensor.Zeros(2, 3, 5, 8));
        using var rank3 = Variable.Constant(Tensor.Zeros(2, 5, 8));
        var e = Assert.Throws<ArgumentException>(() => Functional.SpikingAttention(rank3, good, good, 0.125f, causal: true));
        Assert.Equal("q", e.ParamName);
        Assert.Contains("[2, 5, 8]", e.Message, StringComparison.Ordinal);
        using var other = Variable.Constant(Tensor.Zeros(2, 3, 6, 8));
        e = Assert.Throws<ArgumentException>(() => Functional.SpikingAttention(good, other, good, 0.125f, causal: true));
        Assert.Equal("k", e.ParamName);
        Assert.Contains("[2, 3, 5, 8]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[2, 3, 6, 8]", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => Functional.SpikingAttention(good, good, other, 0.125f, causal: true));
        Assert.Equal("v", e.ParamName);
        using var spikes = Variable.Constant(SpikeTensor.Zeros(2, 3, 5, 8));
        e = Assert.Throws<ArgumentException>(() => Functional.SpikingAttention(spikes, good, spikes, 0.125f, causal: true));
        Assert.Equal("k", e.ParamName);
        Assert.Contains("k is dense", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => Functional.SpikingAttention(good, good, good, float.PositiveInfinity, causal: true));
        Assert.Equal("scale", e.ParamName);
    }
}
