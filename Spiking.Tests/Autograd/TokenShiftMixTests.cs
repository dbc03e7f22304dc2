using System;
using FsCheck.Xunit;
using Spiking.Autograd;
using Spiking.Tensors;
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
