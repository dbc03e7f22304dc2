using System;
using System.Collections.Generic;
using System.Linq;
using FsCheck.Xunit;
using Spiking.Autograd;
using Spiking.Tensors;
using Spiking.Tests.Backends;
using Xunit;

namespace Spiking.Tests.Autograd;

public sealed class TokenShiftMixTests
{
    /// <summary>The mix and its gradients in double, straight from <c>y = x·mu + xx·(1 − mu)</c> with the shifted copy built explicitly.</summary>
    internal static (double[] Y, double[] Scale, double[] Dx, double[] Dmu) Naive(float[] x, float[] mu, float[]? previous, float[] g, int b, int t, int c)
    {
        var xx = new double[x.Length];
        for (int n = 0; n < b; n++)
        {
            for (int s = 0; s < t; s++)
            {
                for (int j = 0; j < c; j++)
                {
                    int at = (n * t + s) * c + j;
                    xx[at] = s > 0 ? x[at - c] : previous is null ? 0 : previous[n * c + j];
                }
            }
        }
        var y = new double[x.Length];
        var scale = new double[x.Length];
        var dx = new double[x.Length];
        var dmu = new double[c];
        for (int i = 0; i < x.Length; i++)
        {
            int j = i % c;
            y[i] = x[i] * (double)mu[j] + xx[i] * (1 - (double)mu[j]);
            scale[i] = (Math.Abs(x[i]) + Math.Abs(xx[i])) * (1 + Math.Abs(mu[j]));
            dmu[j] += g[i] * (x[i] - xx[i]);
            dx[i] += g[i] * (double)mu[j];
            // x[i] is the shifted value of the next step in the same row.
            if ((i / c) % t != t - 1) dx[i] += g[i + c] * (1 - (double)mu[j]);
        }
        return (y, scale, dx, dmu);
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 40)]
    public void Values_and_gradients_match_double(SequenceCase c)
    {
        var x = c.Normal(1, c.B, c.T, c.C);
        var mu = c.Normal(2, c.C);
        var previous = c.Seed % 2 == 0 ? c.Normal(3, c.B, c.C) : null;
        var g = c.Normal(4, c.B, c.T, c.C);
        int[] muDims = c.Seed % 3 == 0 ? [1, 1, c.C] : [c.C];
        var (ey, scale, edx, edmu) = Naive(x, mu, previous, g, c.B, c.T, c.C);
        using var xv = Variable.Parameter(Tensor.FromArray(x, c.B, c.T, c.C));
        using var muv = Variable.Parameter(Tensor.FromArray(mu, muDims));
        using var prev = previous is null ? null : Tensor.FromArray(previous, c.B, c.C);
        using var y = Functional.TokenShiftMix(xv, muv, prev);
        // Three float roundings (two products, 1 − mu) and the sum's.
        Reference.AssertClose(ey, y.Dense.AsReadOnlySpan(), scale, 5e-7, 1e-7, $"y {c}");
        using (var seed = Tensor.FromArray(g, c.B, c.T, c.C)) y.Backward(seed);
        Reference.AssertClose(edx, xv.Grad!.AsReadOnlySpan(), default, 1e-5, 1e-5, $"dx {c}");
        Assert.Equal(new Shape(muDims), muv.Grad!.Shape);
        Reference.AssertClose(edmu, muv.Grad!.AsReadOnlySpan(), default, 1e-5, 1e-5, $"dmu {c}");
    }

    /// <summary><c>[B, T, C]</c> to <c>[T, B, C]</c> and back (the same swap).</summary>
    private static float[] SwapBatchAndTime(float[] values, int first, int second, int c)
    {
        var swapped = new float[values.Length];
        for (int i = 0; i < first; i++)
        {
            for (int j = 0; j < second; j++) Array.Copy(values, (i * second + j) * c, swapped, (j * first + i) * c, c);
        }
        return swapped;
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 30)]
    public void Time_first_layout_gives_the_same_bits_as_batch_first_on_the_swapped_input(SequenceCase c)
    {
        var x = c.Normal(1, c.B, c.T, c.C);
        var g = c.Normal(4, c.B, c.T, c.C);
        var mu = c.Normal(2, c.C);
        using var previous = c.Seed % 2 == 0 ? Tensor.FromArray(c.Normal(3, c.B, c.C), c.B, c.C) : null;
        float[][] Run(bool timeFirst)
        {
            int[] dims = timeFirst ? [c.T, c.B, c.C] : [c.B, c.T, c.C];
            using var xv = Variable.Parameter(Tensor.FromArray(timeFirst ? SwapBatchAndTime(x, c.B, c.T, c.C) : x, dims));
            using var muv = Variable.Parameter(Tensor.FromArray(mu, c.C));
            using var y = Functional.TokenShiftMix(xv, muv, previous, timeFirst);
            var value = y.Dense.ToArray();
            using (var seed = Tensor.FromArray(timeFirst ? SwapBatchAndTime(g, c.B, c.T, c.C) : g, dims)) y.Backward(seed);
            var dx = xv.Grad!.ToArray();
            return timeFirst ? [SwapBatchAndTime(value, c.T, c.B, c.C), SwapBatchAndTime(dx, c.T, c.B, c.C), muv.Grad!.ToArray()] : [value, dx, muv.Grad!.ToArray()];
        }
        var batchFirst = Run(false);
        var timeFirst = Run(true);
        for (int i = 0; i < 3; i++) Assert.Equal(batchFirst[i], timeFirst[i]);
    }

    [Property(Arbitrary = new[] { typeof(SmallGenerators) }, MaxTest = 20)]
    public void Both_inputs_pass_the_gradient_check(SequenceCase c)
    {
        using var previous = Tensor.FromArray(c.Normal(3, c.B, c.C), c.B, c.C);
        GradAssert.Passes(v => Functional.TokenShiftMix(v[0], v[1]), $"zero start {c}",
            Tensor.FromArray(c.Normal(1, c.B, c.T, c.C), c.B, c.T, c.C),
            Tensor.FromArray(c.Normal(2, c.C), c.C));
        GradAssert.Passes(v => Functional.TokenShiftMix(v[0], v[1], previous), $"carried start, mu [1, 1, C] {c}",
            Tensor.FromArray(c.Normal(1, c.B, c.T, c.C), c.B, c.T, c.C),
            Tensor.FromArray(c.Normal(2, c.C), 1, 1, c.C));
    }

    [Fact]
    public void Chunks_with_the_carried_token_equal_the_whole_sequence()
    {
        var c = new SequenceCase(3, 10, 7, 1, 12);
        var x = c.Normal(1, c.B, c.T, c.C);
        using var mu = Variable.Constant(Tensor.FromArray(c.Normal(2, c.C), c.C));
        using var whole = Variable.Constant(Tensor.FromArray(x, c.B, c.T, c.C));
        using var all = Functional.TokenShiftMix(whole, mu);
        using var first = Functional.Narrow(whole, 1, 0, 6);
        using var second = Functional.Narrow(whole, 1, 6, 4);
        using var carried = Functional.Narrow(whole, 1, 5, 1);
        using var previous = carried.Dense.Reshape(c.B, c.C);
        using var a = Functional.TokenShiftMix(first, mu);
        using var b = Functional.TokenShiftMix(second, mu, previous);
        using var joined = Functional.Concat([a, b], 1);
        Reference.AssertBitwise(all.Dense.AsReadOnlySpan(), joined.Dense.AsReadOnlySpan(), "chunked");
    }

    [Fact]
    public void Wrong_shapes_are_named()
    {
        using var x = Variable.Parameter(Tensor.Zeros(2, 3, 4));
        using var mu = Variable.Parameter(Tensor.Zeros(4));
        using var mu3 = Variable.Parameter(Tensor.Zeros(3));
        using var mu14 = Variable.Parameter(Tensor.Zeros(1, 4));
        using var flat = Variable.Parameter(Tensor.Zeros(6, 4));
        var rank = Assert.Throws<ArgumentException>(() => Functional.TokenShiftMix(flat, mu));
        Assert.Equal("x", rank.ParamName);
        Assert.Contains("[B, T, C]", rank.Message, StringComparison.Ordinal);
        foreach (var bad in new[] { mu3, mu14 })
        {
            var e = Assert.Throws<ArgumentException>(() => Functional.TokenShiftMix(x, bad));
            Assert.Equal("mu", e.ParamName);
            Assert.Contains("[4] or [1, 1, 4]", e.Message, StringComparison.Ordinal);
        }
        using var previous = Tensor.Zeros(3, 4);
        var p = Assert.Throws<ArgumentException>(() => Functional.TokenShiftMix(x, mu, previous));
        Assert.Equal("previous", p.ParamName);
        Assert.Contains("[2, 4]", p.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// The operands of a fused case: <paramref name="count"/> mus, alternately <c>[C]</c> and <c>[1, 1, C]</c>, the
    /// gradient of each output (batch-first) and the carried tokens when asked.
    /// </summary>
    internal sealed record FusedCase(SequenceCase Sequence, int Count, bool TimeFirst, bool WithPrevious)
    {
        public float[] X => Sequence.Normal(1, Sequence.B, Sequence.T, Sequence.C);

        public float[]? Previous => WithPrevious ? Sequence.Normal(3, Sequence.B, Sequence.C) : null;

        public float[] Mu(int i) => Sequence.Normal(10 + i, Sequence.C);

        public int[] MuDims(int i) => (Sequence.Seed + i) % 2 == 0 ? [Sequence.C] : [1, 1, Sequence.C];

        public float[] G(int i) => Sequence.Normal(20 + i, Sequence.B, Sequence.T, Sequence.C);

        /// <summary>The dimensions of <c>x</c> in the op's layout.</summary>
        public int[] Dims => TimeFirst ? [Sequence.T, Sequence.B, Sequence.C] : [Sequence.B, Sequence.T, Sequence.C];

        /// <summary>A batch-first array in the op's layout, or back.</summary>
        public float[] ToLayout(float[] batchFirst) => TimeFirst ? SwapBatchAndTime(batchFirst, Sequence.B, Sequence.T, Sequence.C) : batchFirst;

        public float[] FromLayout(float[] values) => TimeFirst ? SwapBatchAndTime(values, Sequence.T, Sequence.B, Sequence.C) : values;

        public override string ToString() => $"{Sequence}, {Count} mus, {(TimeFirst ? "[T, B, C]" : "[B, T, C]")}, {(WithPrevious ? "carried start" : "zero start")}";
    }

    /// <summary>What a run gives, batch-first: each output's value, the input's gradient and each mu's (null: none reached it).</summary>
    internal sealed record MixResult(float[][] Values, float[]? Dx, float[]?[] Dmu);

    /// <summary>
    /// The mixes of <paramref name="f"/> made by one fused call or by one call per mu, and the gradients of a loss that
    /// seeds output i with <c>G(i)</c> where <paramref name="used"/>[i] (the others are left out of it).
    /// <paramref name="inputGrad"/> and <paramref name="muGrad"/> make the operands parameters or constants.
    /// </summary>
    internal static MixResult Run(FusedCase f, bool fused, bool[] used, bool inputGrad = true, bool muGrad = true)
    {
        var s = f.Sequence;
        using var x = inputGrad ? Variable.Parameter(Tensor.FromArray(f.ToLayout(f.X), f.Dims)) : Variable.Constant(Tensor.FromArray(f.ToLayout(f.X), f.Dims));
        var mus = new Variable[f.Count];
        for (int i = 0; i < f.Count; i++)
        {
            var value = Tensor.FromArray(f.Mu(i), f.MuDims(i));
            mus[i] = muGrad ? Variable.Parameter(value) : Variable.Constant(value);
        }
        using var previous = f.Previous is { } p ? Tensor.FromArray(p, s.B, s.C) : null;
        var ys = fused ? Functional.TokenShiftMix(x, mus, previous, f.TimeFirst) : mus.Select(m => Functional.TokenShiftMix(x, m, previous, f.TimeFirst)).ToArray();
        try
        {
            Assert.Equal(f.Count, ys.Count);
            foreach (var y in ys) Assert.Equal(x.Shape, y.Shape);
            var values = ys.Select(y => f.FromLayout(y.Dense.ToArray())).ToArray();
            var seeded = Enumerable.Range(0, f.Count).Where(i => used[i]).ToArray();
            if (seeded.Length > 0 && (inputGrad || muGrad))
            {
                using var joined = Functional.Concat(seeded.Select(i => ys[i]).ToArray(), 0);
                using var seed = Tensor.FromSpan(seeded.SelectMany(i => f.ToLayout(f.G(i))).ToArray(), joined.Shape);
                joined.Backward(seed);
            }
            return new MixResult(values, x.Grad is { } dx ? f.FromLayout(dx.ToArray()) : null, mus.Select(m => m.Grad?.ToArray()).ToArray());
        }
        finally
        {
            foreach (var y in ys) y.Dispose();
            foreach (var m in mus) m.Dispose();
        }
    }

    /// <summary>
    /// The fused op against one call per mu and against <see cref="Naive"/> summed over the seeded outputs: values and
    /// mu gradients the same bits as the one-mu calls (each mu's sum is the same operations in the same order), the
    /// input gradient within the rounding of adding the outputs' terms in another order.
    /// </summary>
    private static void AssertFusedMatches(FusedCase f, bool[] used)
    {
        var s = f.Sequence;
        var fused = Run(f, fused: true, used);
        var separate = Run(f, fused: false, used);
        var edx = new double[s.B * s.T * s.C];
        var scale = new double[edx.Length];
        for (int i = 0; i < f.Count; i++)
        {
            Reference.AssertBitwise(separate.Values[i], fused.Values[i], $"output {i} of {f}");
            if (!used[i])
            {
                Assert.Null(fused.Dmu[i]);
                Assert.Null(separate.Dmu[i]);
                continue;
            }
            var g = f.G(i);
            var mu = f.Mu(i);
            var (_, _, dx, dmu) = Naive(f.X, mu, f.Previous, g, s.B, s.T, s.C);
            for (int e = 0; e < edx.Length; e++)
            {
                edx[e] += dx[e];
                int j = e % s.C;
                bool last = (e / s.C) % s.T == s.T - 1;
                scale[e] += (Math.Abs(g[e]) + (last ? 0 : Math.Abs(g[e + s.C]))) * (1 + Math.Abs(mu[j]));
            }
            Reference.AssertBitwise(separate.Dmu[i], fused.Dmu[i], $"dmu {i} against the one-mu call, {f}");
            Reference.AssertClose(dmu, fused.Dmu[i], default, 1e-5, 1e-5, $"dmu {i} against double, {f}");
        }
        if (!used.Any(u => u))
        {
            Assert.Null(fused.Dx);
            return;
        }
        // Each output's term rounds four times (two products, 1 − mu, their sum), and the terms add in float.
        double rel = 5e-7 + f.Count * 1.2e-7;
        Reference.AssertClose(edx, fused.Dx, scale, rel, 0, $"dx against double, {f}");
        var separateDx = Array.ConvertAll(separate.Dx!, v => (double)v);
        Reference.AssertClose(separateDx, fused.Dx, scale, 2 * rel, 0, $"dx against the one-mu calls, {f}");
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 40)]
    public void Fused_values_and_gradients_match_one_call_per_mu_and_double(SequenceCase c)
    {
        // One to four mixes (four runs the mu sums three at a time and then one), both layouts, zero or carried start.
        var f = new FusedCase(c, 1 + c.Seed % 4, c.Seed / 4 % 2 == 0, c.Seed / 8 % 2 == 0);
        AssertFusedMatches(f, Enumerable.Repeat(true, f.Count).ToArray());
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Fused_op_over_several_blocks_of_rows_matches_one_call_per_mu(bool timeFirst, bool withPrevious)
    {
        // 3 × 200 rows: three blocks of the backward, whose runs of rows break at the blocks' and the sequences' ends.
        AssertFusedMatches(new FusedCase(new SequenceCase(3, 200, 21, 1, 5), 3, timeFirst, withPrevious), [true, true, true]);
    }

    [Theory]
    [InlineData(true, false, true)]
    [InlineData(false, true, false)]
    [InlineData(false, false, true)]
    public void Outputs_no_gradient_reached_add_nothing(bool first, bool second, bool third)
    {
        foreach (bool timeFirst in new[] { false, true })
        {
            AssertFusedMatches(new FusedCase(new SequenceCase(4, 9, 19, 1, 17), 3, timeFirst, WithPrevious: true), [first, second, third]);
        }
    }

    [Fact]
    public void A_constant_input_or_constant_mus_get_only_the_other_gradients()
    {
        var f = new FusedCase(new SequenceCase(2, 7, 12, 1, 23), 3, TimeFirst: true, WithPrevious: true);
        bool[] all = [true, true, true];
        var full = Run(f, fused: true, all);
        var constantInput = Run(f, fused: true, all, inputGrad: false);
        Assert.Null(constantInput.Dx);
        var constantMus = Run(f, fused: true, all, muGrad: false);
        Assert.All(constantMus.Dmu, Assert.Null);
        Reference.AssertBitwise(full.Dx, constantMus.Dx, "dx with constant mus");
        for (int i = 0; i < f.Count; i++)
        {
            Reference.AssertBitwise(full.Values[i], constantInput.Values[i], $"output {i} with a constant input");
            Reference.AssertBitwise(full.Dmu[i], constantInput.Dmu[i], $"dmu {i} with a constant input");
        }
    }

    [Fact]
    public void One_mu_twice_gets_both_gradients()
    {
        var c = new SequenceCase(2, 5, 9, 1, 29);
        var x = c.Normal(1, c.B, c.T, c.C);
        var mu = c.Normal(2, c.C);
        using var xv = Variable.Parameter(Tensor.FromArray(x, c.B, c.T, c.C));
        using var muv = Variable.Parameter(Tensor.FromArray(mu, c.C));
        var ys = Functional.TokenShiftMix(xv, [muv, muv]);
        using var joined = Functional.Concat(ys, 0);
        foreach (var y in ys) y.Dispose();
        var g = c.Normal(4, 2 * c.B, c.T, c.C);
        using (var seed = Tensor.FromArray(g, 2 * c.B, c.T, c.C)) joined.Backward(seed);
        var (_, _, _, first) = Naive(x, mu, null, g[..x.Length], c.B, c.T, c.C);
        var (_, _, _, second) = Naive(x, mu, null, g[x.Length..], c.B, c.T, c.C);
        Reference.AssertClose(first.Zip(second, (a, b) => a + b).ToArray(), muv.Grad!.AsReadOnlySpan(), default, 1e-5, 1e-5, "dmu of both uses");
    }

    [Property(Arbitrary = new[] { typeof(SmallGenerators) }, MaxTest = 20)]
    public void Fused_op_with_three_mus_passes_the_gradient_check(SequenceCase c)
    {
        using var previous = Tensor.FromArray(c.Normal(3, c.B, c.C), c.B, c.C);
        GradAssert.Passes(v => Functional.Concat(Functional.TokenShiftMix(v[0], [v[1], v[2], v[3]]), 0), $"zero start {c}",
            Tensor.FromArray(c.Normal(1, c.B, c.T, c.C), c.B, c.T, c.C),
            Tensor.FromArray(c.Normal(2, c.C), c.C),
            Tensor.FromArray(c.Normal(3, c.C), 1, 1, c.C),
            Tensor.FromArray(c.Normal(4, c.C), c.C));
        GradAssert.Passes(v => Functional.Concat(Functional.TokenShiftMix(v[0], [v[1], v[2], v[3]], previous, timeFirst: true), 0), $"carried start, [T, B, C] {c}",
            Tensor.FromArray(c.Normal(1, c.T, c.B, c.C), c.T, c.B, c.C),
            Tensor.FromArray(c.Normal(2, c.C), 1, 1, c.C),
            Tensor.FromArray(c.Normal(3, c.C), c.C),
            Tensor.FromArray(c.Normal(4, c.C), c.C));
    }

    [Fact]
    public void Fused_errors_name_the_argument()
    {
        using var x = Variable.Parameter(Tensor.Zeros(2, 3, 4));
        using var mu = Variable.Parameter(Tensor.Zeros(4));
        using var mu114 = Variable.Parameter(Tensor.Zeros(1, 1, 4));
        using var mu3 = Variable.Parameter(Tensor.Zeros(3));
        using var spikes = Variable.Constant(SpikeTensor.FromBinary(Tensor.Zeros(4)));

        Assert.Equal("mus", Assert.Throws<ArgumentNullException>(() => Functional.TokenShiftMix(x, (IReadOnlyList<Variable>)null!)).ParamName);
        var empty = Assert.Throws<ArgumentException>(() => Functional.TokenShiftMix(x, []));
        Assert.Equal("mus", empty.ParamName);
        Assert.Contains("at least one", empty.Message, StringComparison.Ordinal);
        var nullEntry = Assert.Throws<ArgumentNullException>(() => Functional.TokenShiftMix(x, [mu, null!]));
        Assert.Equal("mus", nullEntry.ParamName);
        Assert.Contains("'mus'[1] is null", nullEntry.Message, StringComparison.Ordinal);

        // [C] and [1, 1, C] mix freely; another C is named with both shapes.
        Assert.Equal(2, Functional.TokenShiftMix(x, [mu, mu114]).Count);
        var shape = Assert.Throws<ArgumentException>(() => Functional.TokenShiftMix(x, [mu, mu114, mu3]));
        Assert.Equal("mus[2]", shape.ParamName);
        Assert.Contains("'mus[2]' has shape [3]", shape.Message, StringComparison.Ordinal);
        Assert.Contains("[2, 3, 4] needs [4] or [1, 1, 4]", shape.Message, StringComparison.Ordinal);

        var bits = Assert.Throws<ArgumentException>(() => Functional.TokenShiftMix(x, [mu, spikes]));
        Assert.Equal("mus[1]", bits.ParamName);
        Assert.Contains("spikes", bits.Message, StringComparison.Ordinal);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Functional.TokenShiftMix(spikes, [mu])).ParamName);

        using var flat = Variable.Parameter(Tensor.Zeros(6, 4));
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Functional.TokenShiftMix(flat, [mu])).ParamName);
        using var previous = Tensor.Zeros(3, 4);
        var p = Assert.Throws<ArgumentException>(() => Functional.TokenShiftMix(x, [mu, mu], previous));
        Assert.Equal("previous", p.ParamName);
        Assert.Contains("[2, 4]", p.Message, StringComparison.Ordinal);
    }
}

[Collection("Parallelism")]
public sealed class TokenShiftMixThreadTests
{
    [Fact]
    public void One_and_two_threads_give_the_same_bits()
    {
        var c = new SequenceCase(4, 64, 600, 1, 8);
        int saved = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = 1;
            var one = Run(c);
            Parallelism.MaxThreads = 2;
            var two = Run(c);
            for (int i = 0; i < one.Length; i++) Reference.AssertBitwise(one[i], two[i], $"result {i}");
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }

    private static float[][] Run(SequenceCase c)
    {
        using var x = Variable.Parameter(Tensor.FromArray(c.Normal(1, c.B, c.T, c.C), c.B, c.T, c.C));
        using var mu = Variable.Parameter(Tensor.FromArray(c.Normal(2, c.C), c.C));
        using var previous = Tensor.FromArray(c.Normal(3, c.B, c.C), c.B, c.C);
        using var y = Functional.TokenShiftMix(x, mu, previous);
        var value = y.Dense.ToArray();
        using (var seed = Tensor.FromArray(c.Normal(4, c.B, c.T, c.C), c.B, c.T, c.C)) y.Backward(seed);
        return [value, x.Grad!.ToArray(), mu.Grad!.ToArray()];
    }
}

[Collection("Parallelism")]
public sealed class TokenShiftMixFusedThreadTests
{
    [Fact]
    public void Fused_op_gives_the_same_bits_for_one_and_two_threads()
    {
        // 8 × 100 rows of 40 channels: four blocks of the backward, enough work to run threaded.
        int saved = Parallelism.MaxThreads;
        try
        {
            foreach (bool timeFirst in new[] { false, true })
            {
                var f = new TokenShiftMixTests.FusedCase(new SequenceCase(8, 100, 40, 1, 31), 3, timeFirst, WithPrevious: true);
                Parallelism.MaxThreads = 1;
                var one = TokenShiftMixTests.Run(f, fused: true, [true, true, true]);
                Parallelism.MaxThreads = 2;
                var two = TokenShiftMixTests.Run(f, fused: true, [true, true, true]);
                Reference.AssertBitwise(one.Dx, two.Dx, $"dx, {f}");
                for (int i = 0; i < f.Count; i++)
                {
                    Reference.AssertBitwise(one.Values[i], two.Values[i], $"output {i}, {f}");
                    Reference.AssertBitwise(one.Dmu[i], two.Dmu[i], $"dmu {i}, {f}");
                }
            }
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }
}

[Collection(SimulatedDevice.CollectionName)]
public sealed class TokenShiftMixDeviceTests
{
    [Fact]
    public void Fused_op_refuses_a_mu_on_a_device()
    {
        var device = SimulatedDevice.Instance.Device;
        using var x = Variable.Parameter(Tensor.Zeros(2, 3, 4));
        using var mu = Variable.Parameter(Tensor.Zeros(4));
        using var onDevice = Variable.Parameter(Tensor.Zeros(4).To(device));
        var error = Assert.Throws<NotSupportedException>(() => Functional.TokenShiftMix(x, [mu, onDevice]));
        Assert.Contains("mus[1]", error.Message, StringComparison.Ordinal);
        Assert.Contains(device.ToString(), error.Message, StringComparison.Ordinal);
        using var xOnDevice = Variable.Parameter(Tensor.Zeros(2, 3, 4).To(device));
        Assert.Contains(device.ToString(), Assert.Throws<NotSupportedException>(() => Functional.TokenShiftMix(xOnDevice, [mu])).Message, StringComparison.Ordinal);
    }
}
