using System;
using System.Linq;
using Spiking.Autograd;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Autograd;

/// <summary>
/// The WKV scan against its definition in double precision: a softmax over the exponents <c>(t−1−i)w + k_i</c>
/// (i &lt; t) and <c>u + k_t</c> (i = t) weighting the values; its four gradients against central differences of
/// that definition, and against the engine's own gradient checker.
/// </summary>
[Collection("Parallelism")]
public sealed class WkvTests
{
    private sealed record Problem(int T, int B, int C, float[] Decay, float[] First, float[] K, float[] V, float[] G);

    private static Problem Make(int steps, int batch, int channels, int seed, float keyScale = 1.5f, float outlier = 0)
    {
        var rng = new Random(seed);
        float U(float scale) => (float)((rng.NextDouble() * 2 - 1) * scale);
        int n = steps * batch * channels;
        var k = Enumerable.Range(0, n).Select(_ => U(keyScale)).ToArray();
        if (outlier != 0)
        {
            for (int i = 0; i < n; i += 7) k[i] = i % 2 == 0 ? outlier : -outlier;
        }
        return new Problem(steps, batch, channels,
            Enumerable.Range(0, channels).Select(_ => U(1.5f)).ToArray(),
            Enumerable.Range(0, channels).Select(_ => U(1f)).ToArray(),
            k,
            Enumerable.Range(0, n).Select(_ => U(1f)).ToArray(),
            Enumerable.Range(0, n).Select(_ => U(1f)).ToArray());
    }

    /// <summary>The definition, in double: for each (t, b, c) a softmax over i ≤ t, shifted by its largest exponent.</summary>
    private static double[] Reference(Problem p, double[] decay, double[] first, double[] k, double[] v)
    {
        var y = new double[k.Length];
        var exponents = new double[p.T];
        for (int b = 0; b < p.B; b++)
        {
            for (int c = 0; c < p.C; c++)
            {
                double w = -Math.Exp(decay[c]);
                for (int t = 0; t < p.T; t++)
                {
                    double max = double.NegativeInfinity;
                    for (int i = 0; i <= t; i++)
                    {
                        double ki = k[(i * p.B + b) * p.C + c];
                        exponents[i] = i == t ? first[c] + ki : (t - 1 - i) * w + ki;
                        max = Math.Max(max, exponents[i]);
                    }
                    double num = 0, den = 0;
                    for (int i = 0; i <= t; i++)
                    {
                        double e = Math.Exp(exponents[i] - max);
                        num += e * v[(i * p.B + b) * p.C + c];
                        den += e;
                    }
                    y[(t * p.B + b) * p.C + c] = num / den;
                }
            }
        }
        return y;
    }

    private static double[] D(float[] x) => Array.ConvertAll(x, f => (double)f);

    private static (float[] Y, float[] GDecay, float[] GFirst, float[] GK, float[] GV) Engine(Problem p)
    {
        using var decay = Variable.Input(Tensor.FromArray(p.Decay, p.C), "time_decay");
        using var first = Variable.Input(Tensor.FromArray(p.First, p.C), "time_first");
        using var k = Variable.Input(Tensor.FromArray(p.K, p.T, p.B, p.C), "k");
        using var v = Variable.Input(Tensor.FromArray(p.V, p.T, p.B, p.C), "v");
        using var y = Functional.Wkv(decay, first, k, v);
        var values = y.Dense.AsReadOnlySpan().ToArray();
        using (var g = Tensor.FromArray(p.G, p.T, p.B, p.C)) y.Backward(g);
        return (values, decay.Grad!.AsReadOnlySpan().ToArray(), first.Grad!.AsReadOnlySpan().ToArray(),
            k.Grad!.AsReadOnlySpan().ToArray(), v.Grad!.AsReadOnlySpan().ToArray());
    }

    [Theory]
    [InlineData(1, 1, 1, 1, 0f)]
    [InlineData(7, 3, 5, 2, 0f)]
    [InlineData(40, 2, 19, 3, 0f)]
    [InlineData(24, 2, 8, 4, 60f)]
    [InlineData(24, 2, 8, 5, 120f)]
    public void The_scan_equals_the_definition_even_with_keys_beyond_float_exponent_range(int steps, int batch, int channels, int seed, float outlier)
    {
        var p = Make(steps, batch, channels, seed, outlier: outlier);
        var expected = Reference(p, D(p.Decay), D(p.First), D(p.K), D(p.V));
        var (y, _, _, _, _) = Engine(p);
        for (int i = 0; i < y.Length; i++)
        {
            Assert.True(float.IsFinite(y[i]), $"element {i} is {y[i]}");
            Assert.True(Math.Abs(y[i] - expected[i]) <= 2e-6 + 2e-5 * Math.Abs(expected[i]), $"element {i}: {y[i]:G9}, expected {expected[i]:G17}");
        }
    }

    [Theory]
    [InlineData(6, 2, 3, 11, 0f)]
    [InlineData(20, 1, 4, 12, 0f)]
    [InlineData(12, 2, 3, 13, 60f)]
    public void Every_gradient_equals_central_differences_of_the_definition(int steps, int batch, int channels, int seed, float outlier)
    {
        var p = Make(steps, batch, channels, seed, outlier: outlier);
        var (_, gDecay, gFirst, gK, gV) = Engine(p);
        double[] decay = D(p.Decay), first = D(p.First), k = D(p.K), v = D(p.V);
        double Loss()
        {
            var y = Reference(p, decay, first, k, v);
            double sum = 0;
            for (int i = 0; i < y.Length; i++) sum += y[i] * p.G[i];
            return sum;
        }
        void Compare(string name, double[] input, float[] actual)
        {
            const double h = 1e-6;
            for (int i = 0; i < input.Length; i++)
            {
                double saved = input[i];
                input[i] = saved + h;
                double plus = Loss();
                input[i] = saved - h;
                double minus = Loss();
                input[i] = saved;
                double expected = (plus - minus) / (2 * h);
                Assert.True(Math.Abs(actual[i] - expected) <= 1e-4 + 1e-4 * Math.Abs(expected),
                    $"d loss / d {name}[{i}] is {actual[i]:G9}, central difference {expected:G12}");
            }
        }
        Compare("time_decay", decay, gDecay);
        Compare("time_first", first, gFirst);
        Compare("k", k, gK);
        Compare("v", v, gV);
    }

    [Fact]
    public void The_engine_gradient_checker_agrees()
    {
        var p = Make(5, 2, 3, 21);
        GradAssert.Passes(x => Functional.Sum(Functional.Multiply(Functional.Wkv(x[0], x[1], x[2], x[3]), Variable.Constant(Tensor.FromArray(p.G, p.T, p.B, p.C)))),
            "WKV", Tensor.FromArray(p.Decay, p.C), Tensor.FromArray(p.First, p.C), Tensor.FromArray(p.K, p.T, p.B, p.C), Tensor.FromArray(p.V, p.T, p.B, p.C));
    }

    [Fact]
    public void One_and_two_threads_give_the_same_bits()
    {
        var p = Make(33, 4, 24, 31);
        int saved = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = 1;
            var one = Engine(p);
            Parallelism.MaxThreads = 2;
            var two = Engine(p);
            Assert.Equal(one.Y, two.Y);
            Assert.Equal(one.GDecay, two.GDecay);
            Assert.Equal(one.GFirst, two.GFirst);
            Assert.Equal(one.GK, two.GK);
            Assert.Equal(one.GV, two.GV);
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }

    /// <summary>Steps <c>[from, to)</c> of a problem's <c>[T, B, C]</c> array.</summary>
    private static float[] Steps(Problem p, float[] x, int from, int to) => x[(from * p.B * p.C)..(to * p.B * p.C)];

    [Theory]
    [InlineData(1, 1, 1, 1)]
    [InlineData(3, 4, 2, 7)]
    [InlineData(7, 9, 16, 1)]
    public void A_sequence_fed_in_pieces_through_a_carried_state_gives_the_bits_of_one_call(int seed, int steps, int channels, int piece)
    {
        var p = Make(steps, 2, channels, seed, outlier: seed == 3 ? 60f : 0f);
        var (whole, _, _, _, _) = Engine(p);
        using var decay = Variable.Constant(Tensor.FromArray(p.Decay, p.C));
        using var first = Variable.Constant(Tensor.FromArray(p.First, p.C));
        using var state = new WkvState(p.B, p.C);
        for (int from = 0; from < steps; from += piece)
        {
            int to = Math.Min(steps, from + piece);
            using var k = Variable.Constant(Tensor.FromArray(Steps(p, p.K, from, to), to - from, p.B, p.C));
            using var v = Variable.Constant(Tensor.FromArray(Steps(p, p.V, from, to), to - from, p.B, p.C));
            using var y = Functional.Wkv(decay, first, k, v, state);
            Assert.Equal(Steps(p, whole, from, to), y.Dense.AsReadOnlySpan().ToArray());
        }
    }

    [Fact]
    public void A_piece_after_a_carried_state_has_the_key_and_value_gradients_of_the_whole_sequence()
    {
        // With the loss on the second piece only, the whole sequence's gradients of that piece's keys and values are
        // the piece's own (the state entering it depends only on the first piece, a constant to the piece's call).
        var p = Make(14, 2, 5, 41);
        int split = 6, rest = p.T - split;
        var g = (float[])p.G.Clone();
        Array.Clear(g, 0, split * p.B * p.C);
        var (_, _, _, wholeGk, wholeGv) = Engine(p with { G = g });
        using var decay = Variable.Input(Tensor.FromArray(p.Decay, p.C));
        using var first = Variable.Input(Tensor.FromArray(p.First, p.C));
        using var state = new WkvState(p.B, p.C);
        using (var k1 = Variable.Constant(Tensor.FromArray(Steps(p, p.K, 0, split), split, p.B, p.C)))
        using (var v1 = Variable.Constant(Tensor.FromArray(Steps(p, p.V, 0, split), split, p.B, p.C)))
        using (GradMode.NoGrad())
        {
            Functional.Wkv(decay, first, k1, v1, state).Dispose();
        }
        using var k2 = Variable.Input(Tensor.FromArray(Steps(p, p.K, split, p.T), rest, p.B, p.C));
        using var v2 = Variable.Input(Tensor.FromArray(Steps(p, p.V, split, p.T), rest, p.B, p.C));
        using var y = Functional.Wkv(decay, first, k2, v2, state);
        using (var gy = Tensor.FromArray(Steps(p, g, split, p.T), rest, p.B, p.C)) y.Backward(gy);
        var expectedGk = Steps(p, wholeGk, split, p.T);
        var expectedGv = Steps(p, wholeGv, split, p.T);
        var gk = k2.Grad!.AsReadOnlySpan();
        var gv = v2.Grad!.AsReadOnlySpan();
        for (int i = 0; i < expectedGk.Length; i++)
        {
            Assert.True(Math.Abs(gk[i] - expectedGk[i]) <= 1e-6 + 1e-5 * Math.Abs(expectedGk[i]), $"dk[{i}] {gk[i]:G9}, whole sequence {expectedGk[i]:G9}");
            Assert.True(Math.Abs(gv[i] - expectedGv[i]) <= 1e-6 + 1e-5 * Math.Abs(expectedGv[i]), $"dv[{i}] {gv[i]:G9}, whole sequence {expectedGv[i]:G9}");
        }
    }

    [Fact]
    public void A_state_for_other_rows_is_refused()
    {
        using var decay = Variable.Input(Tensor.Zeros(4));
        using var first = Variable.Input(Tensor.Zeros(4));
        using var k = Variable.Input(Tensor.Zeros(3, 2, 4));
        using var state = new WkvState(1, 4);
        var e = Assert.Throws<ArgumentException>(() => Functional.Wkv(decay, first, k, k, state));
        Assert.Contains("1 rows of 4 channels", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mismatched_shapes_are_refused_with_both_shapes_named()
    {
        using var decay = Variable.Input(Tensor.Zeros(4));
        using var first = Variable.Input(Tensor.Zeros(4));
        using var k = Variable.Input(Tensor.Zeros(3, 2, 4));
        using var v = Variable.Input(Tensor.Zeros(3, 2, 5));
        var e = Assert.Throws<ArgumentException>(() => Functional.Wkv(decay, first, k, v));
        Assert.Contains("k [3, 2, 4] and v [3, 2, 5]", e.Message, StringComparison.Ordinal);
        using var v4 = Variable.Input(Tensor.Zeros(3, 2, 4));
        using var first3 = Variable.Input(Tensor.Zeros(3));
        e = Assert.Throws<ArgumentException>(() => Functional.Wkv(decay, first3, k, v4));
        Assert.Contains("time_decay and time_first of shape [4]", e.Message, StringComparison.Ordinal);
    }
}
