using System;
using FsCheck.Xunit;
using Spiking.Autograd;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Autograd;

/// <summary>
/// The spike-driven self-attention cores: <c>KV = Σ_l K ⊙ V</c> and the mask <c>Q ⊙ SN(KV)</c> (SDSA-1, Spike-driven
/// Transformer), <c>s·Q·(Kᵀ·V)</c> (Meta-SpikeFormer SDSA-3, equal in value to SDSA-2's <c>s·(Q·Kᵀ)·V</c>), and
/// SDSA-4's <c>Kᵀ·V</c> and <c>s·Q·M</c>. Spike paths are checked against exact integer references and against the
/// dense path on the same 0/1 values, dense gradients by finite differences.
/// </summary>
[Collection("Parallelism")]
public sealed class SpikeDrivenAttentionTests
{
    private const float Scale = 0.3f;

    [Property(Arbitrary = new[] { typeof(AttentionGenerators) }, MaxTest = 40)]
    public void Key_value_counts_on_spikes_are_exact_and_equal_the_dense_path(AttentionCase c)
    {
        var k = c.Bits(1);
        var v = c.Bits(2);
        var g = c.Normal(c.N * c.H * c.D, 3);
        var spike = Run(c, [k, v], true, x => Functional.SpikeDrivenKeyValue(x[0], x[1]), g);
        var dense = Run(c, [k, v], false, x => Functional.SpikeDrivenKeyValue(x[0], x[1]), g);

        var (expected, dk, dv) = KeyValueReference(c, k, v, g);
        Reference.AssertClose(expected, spike.Output, default, 0, 0, $"{c} counts");
        SameValues(dense.Output, spike.Output, $"{c} dense vs spike output");
        Reference.AssertClose(dk, spike.Grads[0], default, 0, 0, $"{c} dK");
        Reference.AssertClose(dv, spike.Grads[1], default, 0, 0, $"{c} dV");
        SameValues(dense.Grads[0], spike.Grads[0], $"{c} dense vs spike dK");
        SameValues(dense.Grads[1], spike.Grads[1], $"{c} dense vs spike dV");
    }

    [Property(Arbitrary = new[] { typeof(AttentionGenerators) }, MaxTest = 40)]
    public void Mask_of_spikes_is_the_bitwise_and_and_equals_the_dense_path(AttentionCase c)
    {
        var q = c.Bits(1);
        var m = Rows(c).Bits(2);
        var g = c.Normal(c.Count, 3);
        var spike = Run(c, [q, m], true, x => Functional.SpikeMask(x[0], x[1]), g, expectSpikes: true);
        var dense = Run(c, [q, m], false, x => Functional.SpikeMask(x[0], x[1]), g);

        var (expected, dq, dm) = MaskReference(c, q, m, g);
        Reference.AssertClose(expected, spike.Output, default, 0, 0, $"{c} AND");
        SameValues(dense.Output, spike.Output, $"{c} dense vs spike output");
        Reference.AssertRounded(dq, spike.Grads[0], $"{c} dQ");
        Reference.AssertClose(dm, spike.Grads[1], Magnitudes(c, q, g), 1e-6, 1e-6, $"{c} dmask");
        Reference.AssertBitwise(dense.Grads[0], spike.Grads[0], $"{c} dense vs spike dQ");
        Reference.AssertBitwise(dense.Grads[1], spike.Grads[1], $"{c} dense vs spike dmask");
    }

    [Property(Arbitrary = new[] { typeof(AttentionGenerators) }, MaxTest = 30)]
    public void Mask_of_spike_queries_by_a_dense_mask_is_dense(AttentionCase c)
    {
        var q = c.Bits(1);
        var m = Rows(c).Normal(c.N * c.H * c.D, 2);
        var g = c.Normal(c.Count, 3);
        using var uq = Variable.Parameter(Tensor.FromArray(ShapeOpTests.Shifted(q), c.Dims));
        using var qs = SpikeSourceNode.Apply(uq);
        using var md = Variable.Parameter(Tensor.FromArray(m, c.N, c.H, 1, c.D));
        using var y = Functional.SpikeMask(qs, md);
        Assert.False(y.IsSpikes);
        using (var seed = Tensor.FromArray(g, c.Dims)) y.Backward(seed);

        var (expected, dq, dm) = MaskReference(c, q, m, g);
        Reference.AssertRounded(expected, y.Dense.AsReadOnlySpan(), $"{c} output");
        Reference.AssertRounded(dq, uq.Grad!.AsReadOnlySpan(), $"{c} dQ");
        Reference.AssertClose(dm, md.Grad!.AsReadOnlySpan(), Magnitudes(c, q, g), 1e-6, 1e-6, $"{c} dmask");
    }

    [Property(Arbitrary = new[] { typeof(AttentionGenerators) }, MaxTest = 30)]
    public void Linear_attention_on_spikes_counts_exactly_and_equals_the_dense_path(AttentionCase c)
    {
        var q = c.Bits(1);
        var k = c.Bits(2);
        var v = c.Bits(3);
        var g = c.Normal(c.Count, 4);
        var spike = Run(c, [q, k, v], true, x => Functional.SpikeLinearAttention(x[0], x[1], x[2], Scale), g);
        var dense = Run(c, [q, k, v], false, x => Functional.SpikeLinearAttention(x[0], x[1], x[2], Scale), g);

        var exact = LinearReference(c, q, k, v, g, Scale);
        // Counts times the scale in double are exact, so the float result must be that product rounded once.
        Reference.AssertRounded(exact.Output, spike.Output, $"{c} output");
        Reference.AssertBitwise(dense.Output, spike.Output, $"{c} dense vs spike output");
        var bound = LinearReference(c, q, k, v, Abs(g), Scale);
        for (int i = 0; i < 3; i++)
        {
            Reference.AssertClose(exact.Grads[i], spike.Grads[i], bound.Grads[i], 1e-5, 1e-6, $"{c} gradient {i}");
            Reference.AssertBitwise(dense.Grads[i], spike.Grads[i], $"{c} dense vs spike gradient {i}");
        }
    }

    [Property(Arbitrary = new[] { typeof(AttentionGenerators) }, MaxTest = 20)]
    public void Linear_attention_dense_path_matches_double(AttentionCase c)
    {
        var q = c.Normal(c.Count, 1);
        var k = c.Normal(c.Count, 2);
        var v = c.Normal(c.Count, 3);
        var g = c.Normal(c.Count, 4);
        var dense = Run(c, [q, k, v], false, x => Functional.SpikeLinearAttention(x[0], x[1], x[2], Scale), g);
        var exact = LinearReference(c, q, k, v, g, Scale);
        var bound = LinearReference(c, Abs(q), Abs(k), Abs(v), Abs(g), Scale);
        Reference.AssertClose(exact.Output, dense.Output, bound.Output, 1e-5, 1e-6, $"{c} output");
        for (int i = 0; i < 3; i++) Reference.AssertClose(exact.Grads[i], dense.Grads[i], bound.Grads[i], 1e-5, 1e-6, $"{c} gradient {i}");
    }

    [Property(Arbitrary = new[] { typeof(AttentionGenerators) }, MaxTest = 30)]
    public void Key_value_product_on_spikes_counts_exactly_and_equals_the_dense_path(AttentionCase c)
    {
        var k = c.Bits(1);
        var v = c.Bits(2);
        var g = c.Normal(MapCount(c), 3);
        var spike = Run(c, [k, v], true, x => Functional.SpikeKeyValueProduct(x[0], x[1]), g);
        var dense = Run(c, [k, v], false, x => Functional.SpikeKeyValueProduct(x[0], x[1]), g);

        var exact = KeyValueProductReference(c, k, v, g);
        Reference.AssertClose(exact.Output, spike.Output, default, 0, 0, $"{c} counts");
        Reference.AssertBitwise(dense.Output, spike.Output, $"{c} dense vs spike output");
        var bound = KeyValueProductReference(c, k, v, Abs(g));
        for (int i = 0; i < 2; i++)
        {
            Reference.AssertClose(exact.Grads[i], spike.Grads[i], bound.Grads[i], 1e-5, 1e-6, $"{c} gradient {i}");
            Reference.AssertBitwise(dense.Grads[i], spike.Grads[i], $"{c} dense vs spike gradient {i}");
        }
    }

    [Property(Arbitrary = new[] { typeof(AttentionGenerators) }, MaxTest = 30)]
    public void Query_product_of_two_spike_matrices_counts_exactly_and_equals_the_dense_path(AttentionCase c)
    {
        var q = c.Bits(1);
        var m = Map(c).Bits(2);
        var g = c.Normal(c.Count, 3);
        var spike = Run(c, [q, m], true, x => Functional.SpikeQueryProduct(x[0], x[1], Scale), g);
        var dense = Run(c, [q, m], false, x => Functional.SpikeQueryProduct(x[0], x[1], Scale), g);

        var exact = QueryProductReference(c, q, m, g, Scale);
        // Counts times the scale in double are exact, so the float result must be that product rounded once.
        Reference.AssertRounded(exact.Output, spike.Output, $"{c} output");
        Reference.AssertBitwise(dense.Output, spike.Output, $"{c} dense vs spike output");
        var bound = QueryProductReference(c, q, m, Abs(g), Scale);
        for (int i = 0; i < 2; i++)
        {
            Reference.AssertClose(exact.Grads[i], spike.Grads[i], bound.Grads[i], 1e-5, 1e-6, $"{c} gradient {i}");
            Reference.AssertBitwise(dense.Grads[i], spike.Grads[i], $"{c} dense vs spike gradient {i}");
        }
    }

    [Property(Arbitrary = new[] { typeof(AttentionGenerators) }, MaxTest = 20)]
    public void Key_value_and_query_products_dense_paths_match_double(AttentionCase c)
    {
        var q = c.Normal(c.Count, 1);
        var k = c.Normal(c.Count, 2);
        var v = c.Normal(c.Count, 3);
        var m = c.Normal(MapCount(c), 4);
        var gm = c.Normal(MapCount(c), 5);
        var g = c.Normal(c.Count, 6);

        var kv = Run(c, [k, v], false, x => Functional.SpikeKeyValueProduct(x[0], x[1]), gm);
        var exact = KeyValueProductReference(c, k, v, gm);
        var bound = KeyValueProductReference(c, Abs(k), Abs(v), Abs(gm));
        Reference.AssertClose(exact.Output, kv.Output, bound.Output, 1e-5, 1e-6, $"{c} Kᵀ·V");
        for (int i = 0; i < 2; i++) Reference.AssertClose(exact.Grads[i], kv.Grads[i], bound.Grads[i], 1e-5, 1e-6, $"{c} Kᵀ·V gradient {i}");

        var qm = Run(c, [q, m], false, x => Functional.SpikeQueryProduct(x[0], x[1], Scale), g);
        exact = QueryProductReference(c, q, m, g, Scale);
        bound = QueryProductReference(c, Abs(q), Abs(m), Abs(g), Scale);
        Reference.AssertClose(exact.Output, qm.Output, bound.Output, 1e-5, 1e-6, $"{c} s·Q·M");
        for (int i = 0; i < 2; i++) Reference.AssertClose(exact.Grads[i], qm.Grads[i], bound.Grads[i], 1e-5, 1e-6, $"{c} s·Q·M gradient {i}");
    }

    [Property(Arbitrary = new[] { typeof(AttentionGenerators) }, MaxTest = 30)]
    public void Token_order_and_channel_order_attention_give_the_same_bits_on_spikes(AttentionCase c)
    {
        // SDSA-2 forms (Q·Kᵀ)·V and SDSA-3 Q·(Kᵀ·V): on spikes both are exact integers scaled once.
        var q = c.Bits(1);
        var k = c.Bits(2);
        var v = c.Bits(3);
        var g = c.Normal(c.Count, 4);
        var tokenOrder = Run(c, [q, k, v], true, x => Functional.SpikingAttention(x[0], x[1], x[2], Scale), g);
        var channelOrder = Run(c, [q, k, v], true, x => Functional.SpikeLinearAttention(x[0], x[1], x[2], Scale), g);
        Reference.AssertBitwise(tokenOrder.Output, channelOrder.Output, $"{c} output");
        var exact = LinearReference(c, q, k, v, g, Scale);
        var bound = LinearReference(c, q, k, v, Abs(g), Scale);
        for (int i = 0; i < 3; i++) Reference.AssertClose(exact.Grads[i], tokenOrder.Grads[i], bound.Grads[i], 1e-5, 1e-6, $"{c} gradient {i}");
    }

    [Property(Arbitrary = new[] { typeof(SmallAttentionGenerators) }, MaxTest = 15)]
    public void Dense_gradients_pass_finite_differences(AttentionCase c) => CheckGradients(c);

    [Fact]
    public void Dense_gradients_pass_finite_differences_past_one_word() => CheckGradients(new AttentionCase(1, 1, 2, 67, 0.5, 11));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void One_and_four_threads_give_the_same_bits(bool spikes)
    {
        var c = new AttentionCase(2, 4, 200, 130, 0.3, 21);
        int saved = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = 1;
            var one = RunAll(c, spikes);
            Parallelism.MaxThreads = 4;
            var four = RunAll(c, spikes);
            for (int i = 0; i < one.Length; i++) Reference.AssertBitwise(one[i], four[i], $"result {i}");
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }

    [Fact]
    public void Shape_errors_name_the_shapes()
    {
        using var a = Variable.Constant(Tensor.Zeros(1, 2, 3, 4));
        using var b = Variable.Constant(Tensor.Zeros(1, 2, 3, 5));
        using var flat = Variable.Constant(Tensor.Zeros(2, 3, 4));
        using var row = Variable.Constant(Tensor.Zeros(1, 2, 1, 5));
        using var spikes = Variable.Constant(SpikeTensor.Zeros(1, 2, 3, 4));

        var e = Assert.Throws<ArgumentException>(() => Functional.SpikeDrivenKeyValue(a, b));
        Assert.Equal("v", e.ParamName);
        Assert.Contains("[1, 2, 3, 4]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[1, 2, 3, 5]", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<ArgumentException>(() => Functional.SpikeDrivenKeyValue(flat, a));
        Assert.Equal("k", e.ParamName);
        Assert.Contains("[2, 3, 4]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[N, H, L, D]", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<ArgumentException>(() => Functional.SpikeDrivenKeyValue(spikes, a));
        Assert.Equal("v", e.ParamName);
        Assert.Contains("spikes", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<ArgumentException>(() => Functional.SpikeMask(a, row));
        Assert.Equal("mask", e.ParamName);
        Assert.Contains("[1, 2, 1, 5]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[1, 2, 3, 4]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[1, 2, 1, 4]", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<ArgumentException>(() => Functional.SpikeMask(a, a));
        Assert.Equal("mask", e.ParamName);

        e = Assert.Throws<ArgumentException>(() => Functional.SpikeLinearAttention(a, a, b, 1f));
        Assert.Equal("v", e.ParamName);
        Assert.Contains("[1, 2, 3, 5]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[1, 2, 3, 4]", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<ArgumentException>(() => Functional.SpikeLinearAttention(spikes, a, a, 1f));
        Assert.Equal("k", e.ParamName);

        Assert.Throws<ArgumentOutOfRangeException>(() => Functional.SpikeLinearAttention(a, a, a, float.NaN));

        e = Assert.Throws<ArgumentException>(() => Functional.SpikeKeyValueProduct(a, b));
        Assert.Equal("v", e.ParamName);
        Assert.Contains("[1, 2, 3, 5]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[1, 2, 3, 4]", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<ArgumentException>(() => Functional.SpikeKeyValueProduct(flat, a));
        Assert.Equal("k", e.ParamName);
        Assert.Contains("[2, 3, 4]", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<ArgumentException>(() => Functional.SpikeKeyValueProduct(a, spikes));
        Assert.Equal("v", e.ParamName);
        Assert.Contains("spikes", e.Message, StringComparison.Ordinal);

        using var map = Variable.Constant(Tensor.Zeros(1, 2, 4, 4));
        using var wrongMap = Variable.Constant(Tensor.Zeros(1, 2, 3, 4));
        e = Assert.Throws<ArgumentException>(() => Functional.SpikeQueryProduct(a, wrongMap, 1f));
        Assert.Equal("m", e.ParamName);
        Assert.Contains("[1, 2, 3, 4]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[1, 2, 4, 4]", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<ArgumentException>(() => Functional.SpikeQueryProduct(flat, map, 1f));
        Assert.Equal("q", e.ParamName);
        Assert.Contains("[2, 3, 4]", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<ArgumentException>(() => Functional.SpikeQueryProduct(spikes, map, 1f));
        Assert.Equal("m", e.ParamName);
        Assert.Contains("spikes", e.Message, StringComparison.Ordinal);

        Assert.Throws<ArgumentOutOfRangeException>(() => Functional.SpikeQueryProduct(a, map, float.PositiveInfinity));
    }

    private static void CheckGradients(AttentionCase c)
    {
        GradAssert.Passes(x => Functional.SpikeDrivenKeyValue(x[0], x[1]), $"{c} key-value",
            Tensor.FromArray(c.Normal(c.Count, 1), c.Dims), Tensor.FromArray(c.Normal(c.Count, 2), c.Dims));
        GradAssert.Passes(x => Functional.SpikeMask(x[0], x[1]), $"{c} mask",
            Tensor.FromArray(c.Normal(c.Count, 1), c.Dims), Tensor.FromArray(c.Normal(c.N * c.H * c.D, 2), c.N, c.H, 1, c.D));
        GradAssert.Passes(x => Functional.SpikeLinearAttention(x[0], x[1], x[2], Scale), $"{c} linear attention",
            Tensor.FromArray(c.Normal(c.Count, 1), c.Dims), Tensor.FromArray(c.Normal(c.Count, 2), c.Dims), Tensor.FromArray(c.Normal(c.Count, 3), c.Dims));
        GradAssert.Passes(x => Functional.SpikeKeyValueProduct(x[0], x[1]), $"{c} key-value product",
            Tensor.FromArray(c.Normal(c.Count, 1), c.Dims), Tensor.FromArray(c.Normal(c.Count, 2), c.Dims));
        GradAssert.Passes(x => Functional.SpikeQueryProduct(x[0], x[1], Scale), $"{c} query product",
            Tensor.FromArray(c.Normal(c.Count, 1), c.Dims), Tensor.FromArray(c.Normal(MapCount(c), 2), Map(c).Dims));
    }

    /// <summary>The outputs and input gradients of all the ops, for the thread comparison.</summary>
    private static float[][] RunAll(AttentionCase c, bool spikes)
    {
        float[] Operand(int salt) => spikes ? c.Bits(salt) : c.Normal(c.Count, salt);
        var kv = Run(c, [Operand(1), Operand(2)], spikes, x => Functional.SpikeDrivenKeyValue(x[0], x[1]), c.Normal(c.N * c.H * c.D, 4));
        var mask = Run(c, [Operand(1), spikes ? Rows(c).Bits(5) : Rows(c).Normal(c.N * c.H * c.D, 5)], spikes,
            x => Functional.SpikeMask(x[0], x[1]), c.Normal(c.Count, 4), expectSpikes: spikes);
        var linear = Run(c, [Operand(1), Operand(2), Operand(3)], spikes, x => Functional.SpikeLinearAttention(x[0], x[1], x[2], Scale), c.Normal(c.Count, 4));
        var product = Run(c, [Operand(1), Operand(2)], spikes, x => Functional.SpikeKeyValueProduct(x[0], x[1]), c.Normal(MapCount(c), 4));
        var query = Run(c, [Operand(1), spikes ? Map(c).Bits(5) : c.Normal(MapCount(c), 5)], spikes,
            x => Functional.SpikeQueryProduct(x[0], x[1], Scale), c.Normal(c.Count, 4));
        return [kv.Output, .. kv.Grads, mask.Output, .. mask.Grads, linear.Output, .. linear.Grads, product.Output, .. product.Grads, query.Output, .. query.Grads];
    }

    /// <summary>
    /// Runs <paramref name="op"/> on <paramref name="inputs"/> (the first always <c>[N, H, L, D]</c>, a second of
    /// <c>N·H·D</c> values <c>[N, H, 1, D]</c> and one of <c>N·H·D·D</c> values <c>[N, H, D, D]</c>) as spikes from a straight-through source or as dense parameters, and
    /// back-propagates <paramref name="g"/>; returns the output as floats and each input's gradient.
    /// </summary>
    private static (float[] Output, float[][] Grads) Run(AttentionCase c, float[][] inputs, bool spikes, Func<Variable[], Variable> op, float[] g, bool expectSpikes = false)
    {
        var leaves = new Variable[inputs.Length];
        var operands = new Variable[inputs.Length];
        try
        {
            for (int i = 0; i < inputs.Length; i++)
            {
                int[] dims = inputs[i].Length == c.Count ? c.Dims : inputs[i].Length == MapCount(c) ? Map(c).Dims : [c.N, c.H, 1, c.D];
                leaves[i] = Variable.Parameter(Tensor.FromArray(spikes ? ShapeOpTests.Shifted(inputs[i]) : inputs[i], dims));
                operands[i] = spikes ? SpikeSourceNode.Apply(leaves[i]) : leaves[i];
            }
            using var y = op(operands);
            Assert.Equal(expectSpikes, y.IsSpikes);
            float[] output;
            using (var values = y.ToDense()) output = values.ToArray();
            using (var seed = Tensor.FromSpan(g, y.Shape)) y.Backward(seed);
            var grads = new float[inputs.Length][];
            for (int i = 0; i < grads.Length; i++) grads[i] = leaves[i].Grad!.ToArray();
            return (output, grads);
        }
        finally
        {
            for (int i = 0; i < inputs.Length; i++)
            {
                if (!ReferenceEquals(operands[i], leaves[i])) operands[i]?.Dispose();
                leaves[i]?.Dispose();
            }
        }
    }

    /// <summary>The problem with one token, for the <c>[N, H, 1, D]</c> operands.</summary>
    private static AttentionCase Rows(AttentionCase c) => c with { L = 1 };

    /// <summary>The problem with D "tokens", for the <c>[N, H, D, D]</c> channel maps.</summary>
    private static AttentionCase Map(AttentionCase c) => c with { L = c.D };

    private static int MapCount(AttentionCase c) => c.N * c.H * c.D * c.D;

    private static float[] Abs(float[] x) => Array.ConvertAll(x, Math.Abs);

    /// <summary>Asserts equal values (so +0 and −0 match: <c>G·0</c> on the dense path is −0 where G is negative).</summary>
    private static void SameValues(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (!(expected[i] == actual[i])) throw new Xunit.Sdk.XunitException($"{what}: element {i} is {actual[i]}, expected {expected[i]}.");
        }
    }

    /// <summary><c>KV[n,h,d] = Σ_l k·v</c>, <c>dK = G ⊙ v</c>, <c>dV = G ⊙ k</c>, in double.</summary>
    private static (double[] Kv, double[] Dk, double[] Dv) KeyValueReference(AttentionCase c, float[] k, float[] v, float[] g)
    {
        var kv = new double[c.N * c.H * c.D];
        var dk = new double[c.Count];
        var dv = new double[c.Count];
        for (int i = 0; i < c.N * c.H; i++)
        {
            for (int l = 0; l < c.L; l++)
            {
                for (int d = 0; d < c.D; d++)
                {
                    int at = (i * c.L + l) * c.D + d;
                    kv[i * c.D + d] += (double)k[at] * v[at];
                    dk[at] = (double)g[i * c.D + d] * v[at];
                    dv[at] = (double)g[i * c.D + d] * k[at];
                }
            }
        }
        return (kv, dk, dv);
    }

    /// <summary><c>Q[l] ⊙ m</c>, <c>dQ = G ⊙ m</c>, <c>dm = Σ_l G ⊙ Q</c>, in double.</summary>
    private static (double[] Output, double[] Dq, double[] Dm) MaskReference(AttentionCase c, float[] q, float[] m, float[] g)
    {
        var y = new double[c.Count];
        var dq = new double[c.Count];
        var dm = new double[c.N * c.H * c.D];
        for (int i = 0; i < c.N * c.H; i++)
        {
            for (int l = 0; l < c.L; l++)
            {
                for (int d = 0; d < c.D; d++)
                {
                    int at = (i * c.L + l) * c.D + d;
                    y[at] = (double)q[at] * m[i * c.D + d];
                    dq[at] = (double)g[at] * m[i * c.D + d];
                    dm[i * c.D + d] += (double)g[at] * q[at];
                }
            }
        }
        return (y, dq, dm);
    }

    /// <summary>The sums of |G ⊙ Q| over tokens: the magnitude a float sum for dmask could lose precision against.</summary>
    private static double[] Magnitudes(AttentionCase c, float[] q, float[] g) => MaskReference(c, Abs(q), new float[c.N * c.H * c.D], Abs(g)).Dm;

    /// <summary>
    /// <c>s·Q·(Kᵀ·V)</c> and its gradients (<c>dQ = s·G·Mᵀ</c>, <c>dK = V·dMᵀ</c>, <c>dV = K·dM</c> with
    /// <c>dM = s·Qᵀ·G</c>) by the naive loops, in double.
    /// </summary>
    private static (double[] Output, double[][] Grads) LinearReference(AttentionCase c, float[] q, float[] k, float[] v, float[] g, float scale)
    {
        int l = c.L, d = c.D;
        var y = new double[c.Count];
        var dq = new double[c.Count];
        var dk = new double[c.Count];
        var dv = new double[c.Count];
        var m = new double[d * d];
        var dm = new double[d * d];
        for (int h = 0; h < c.N * c.H; h++)
        {
            int o = h * l * d;
            Array.Clear(m);
            Array.Clear(dm);
            for (int t = 0; t < l; t++)
            {
                for (int i = 0; i < d; i++)
                {
                    for (int j = 0; j < d; j++)
                    {
                        m[i * d + j] += (double)k[o + t * d + i] * v[o + t * d + j];
                        dm[i * d + j] += scale * (double)q[o + t * d + i] * g[o + t * d + j];
                    }
                }
            }
            for (int t = 0; t < l; t++)
            {
                for (int j = 0; j < d; j++)
                {
                    double sum = 0, gq = 0, gk = 0, gv = 0;
                    for (int i = 0; i < d; i++)
                    {
                        sum += q[o + t * d + i] * m[i * d + j];
                        gq += g[o + t * d + i] * m[j * d + i];
                        gk += v[o + t * d + i] * dm[j * d + i];
                        gv += k[o + t * d + i] * dm[i * d + j];
                    }
                    y[o + t * d + j] = scale * sum;
                    dq[o + t * d + j] = scale * gq;
                    dk[o + t * d + j] = gk;
                    dv[o + t * d + j] = gv;
                }
            }
        }
        return (y, [dq, dk, dv]);
    }

    /// <summary>
    /// <c>M = Kᵀ·V</c> per head and its gradients <c>dK = V·Gᵀ</c>, <c>dV = K·G</c> (G is <c>[D, D]</c> per head),
    /// by the naive loops, in double.
    /// </summary>
    private static (double[] Output, double[][] Grads) KeyValueProductReference(AttentionCase c, float[] k, float[] v, float[] g)
    {
        int l = c.L, d = c.D;
        var m = new double[MapCount(c)];
        var dk = new double[c.Count];
        var dv = new double[c.Count];
        for (int h = 0; h < c.N * c.H; h++)
        {
            int o = h * l * d, mo = h * d * d;
            for (int t = 0; t < l; t++)
            {
                for (int i = 0; i < d; i++)
                {
                    for (int j = 0; j < d; j++)
                    {
                        m[mo + i * d + j] += (double)k[o + t * d + i] * v[o + t * d + j];
                        dk[o + t * d + i] += (double)v[o + t * d + j] * g[mo + i * d + j];
                        dv[o + t * d + j] += (double)k[o + t * d + i] * g[mo + i * d + j];
                    }
                }
            }
        }
        return (m, [dk, dv]);
    }

    /// <summary>
    /// <c>s·Q·M</c> per head and its gradients <c>dQ = s·G·Mᵀ</c>, <c>dM = s·Qᵀ·G</c>, by the naive loops, in double.
    /// </summary>
    private static (double[] Output, double[][] Grads) QueryProductReference(AttentionCase c, float[] q, float[] m, float[] g, float scale)
    {
        int l = c.L, d = c.D;
        var y = new double[c.Count];
        var dq = new double[c.Count];
        var dm = new double[MapCount(c)];
        for (int h = 0; h < c.N * c.H; h++)
        {
            int o = h * l * d, mo = h * d * d;
            for (int t = 0; t < l; t++)
            {
                for (int i = 0; i < d; i++)
                {
                    for (int j = 0; j < d; j++)
                    {
                        y[o + t * d + j] += scale * (double)q[o + t * d + i] * m[mo + i * d + j];
                        dq[o + t * d + i] += scale * (double)g[o + t * d + j] * m[mo + i * d + j];
                        dm[mo + i * d + j] += scale * (double)q[o + t * d + i] * g[o + t * d + j];
                    }
                }
            }
        }
        return (y, [dq, dm]);
    }
}
