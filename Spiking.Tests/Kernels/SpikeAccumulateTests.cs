using System.Linq;
using System;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;
using Xunit;

namespace Spiking.Tests.Kernels;

[Collection("Parallelism")]
public sealed class SpikeAccumulateTests
{
    private const double Rel = 1e-5;
    private const double Abs = 1e-5;

    /// <summary>The operands of one product problem, built without the engine's kernels.</summary>
    private sealed class Problem
    {
        public Problem(ProductCase c)
        {
            Case = c;
            Spikes = c.Spikes(c.M, c.K).Dense();
            Words = Reference.Pack(Spikes, c.M, c.K);
            Weight = c.Normal(c.N * c.K, 1);
            Bias = c.Normal(c.N, 2);
            Grad = c.Normal(c.M * c.N, 3);
            Prior = c.Normal(c.M * Math.Max(c.N, c.K) + c.N * c.K, 4);
            WeightT = new float[c.K * c.N];
            for (int j = 0; j < c.N; j++)
            {
                for (int k = 0; k < c.K; k++) WeightT[k * c.N + j] = Weight[j * c.K + k];
            }
        }

        public ProductCase Case { get; }
        public float[] Spikes { get; }
        public ulong[] Words { get; }
        public float[] Weight { get; }
        public float[] WeightT { get; }
        public float[] Bias { get; }
        public float[] Grad { get; }
        public float[] Prior { get; }
        public int M => Case.M;
        public int K => Case.K;
        public int N => Case.N;

        /// <summary>The column sums from the engine's cache, after checking its packed panels against the naive transpose.</summary>
        public float[] ColumnSums()
        {
            using var w = Tensor.FromArray(Weight, N, K);
            using var cache = new TransposedWeightCache();
            var packed = cache.Get(w);
            int b = SpikeWeightPanels.PanelWidth;
            var expectedPanels = new float[SpikeWeightPanels.PanelLength(K, N)];
            for (int k = 0; k < K; k++)
            {
                for (int j = 0; j < N; j++) expectedPanels[j / b * K * b + k * b + j % b] = WeightT[k * N + j];
            }
            Reference.AssertBitwise(expectedPanels, packed.Panels, "cached panels (transposed, zero-padded)");
            var sums = packed.ColumnSums;
            var expected = new double[N];
            var scale = new double[N];
            for (int j = 0; j < N; j++)
            {
                for (int k = 0; k < K; k++)
                {
                    expected[j] += Weight[j * K + k];
                    scale[j] += Math.Abs(Weight[j * K + k]);
                }
            }
            Reference.AssertClose(expected, sums, scale, 1e-6, 1e-7, "cached column sums");
            return sums.ToArray();
        }

        public bool EveryColumnAtMostHalfDense()
        {
            for (int k = 0; k < K; k++)
            {
                int count = 0;
                for (int m = 0; m < M; m++) count += Spikes[m * K + k] != 0 ? 1 : 0;
                if (2 * count > M) return false;
            }
            return true;
        }
    }

    [Property(Arbitrary = new[] { typeof(Generators) })]
    public void Forward_matches_double(ProductCase c) => CheckForward(new Problem(c));

    [Property(Arbitrary = new[] { typeof(Generators) })]
    public void WeightGradient_matches_double(ProductCase c) => CheckWeightGradient(new Problem(c));

    [Theory]
    [InlineData(70, 513, 130, 0.1)]
    [InlineData(70, 513, 130, 0.5)]
    [InlineData(70, 513, 130, 0.9)]
    [InlineData(70, 1100, 130, 0.02)]
    [InlineData(70, 1100, 130, 0.3)]
    [InlineData(70, 1100, 130, 0.7)]
    [InlineData(70, 1100, 130, 1.0)]
    [InlineData(70, 2100, 130, 0.1)]
    [InlineData(70, 2100, 130, 0.6)]
    [InlineData(70, 2100, 130, 1.0)]
    [InlineData(70, 512, 130, 0.5)]
    [InlineData(70, 1024, 130, 0.5)]
    [InlineData(70, 1025, 130, 0.55)]
    public void Inner_dimensions_across_the_chunk_boundary(int m, int k, int n, double rate)
    {
        var p = new Problem(new ProductCase(m, k, n, rate, k + n));
        CheckForward(p);
        CheckWeightGradient(p);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(15)]
    [InlineData(17)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(127)]
    [InlineData(128)]
    [InlineData(129)]
    [InlineData(191)]
    [InlineData(193)]
    [InlineData(257)]
    public void Output_widths_hit_every_block_vector_and_scalar_remainder(int n)
    {
        foreach (double rate in new[] { 0.1, 0.5, 0.9 })
        {
            foreach (int m in new[] { 1, 33, 65 })
            {
                var p = new Problem(new ProductCase(m, 100, n, rate, n * 31 + m));
                CheckForward(p);
                CheckWeightGradient(p);
            }
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    public void All_silent_and_all_firing(double rate)
    {
        foreach (int k in new[] { 1, 64, 65, 700 })
        {
            var p = new Problem(new ProductCase(37, k, 71, rate, k));
            CheckForward(p);
            CheckWeightGradient(p);
            if (rate == 0)
            {
                // No spikes: the output is exactly the bias, with or without the complement sums.
                var output = new float[p.M * p.N];
                foreach (var sums in new[] { Array.Empty<float>(), p.ColumnSums() })
                {
                    SpikeAccumulate.Forward(p.Words, p.M, p.K, p.WeightT, p.N, p.Bias, output, columnSums: sums);
                    for (int r = 0; r < p.M; r++) Reference.AssertBitwise(p.Bias, output.AsSpan(r * p.N, p.N), $"row {r} is the bias");
                    SpikeAccumulate.Forward(p.Words, p.M, p.K, p.WeightT, p.N, default, output, columnSums: sums);
                    Assert.All(output, v => Assert.Equal(0f, v));
                }
                var dw = new float[p.N * p.K];
                dw.AsSpan().Fill(float.NaN);
                SpikeAccumulate.WeightGradient(p.Grad, p.Words, p.M, p.K, p.N, dw);
                Assert.All(dw, v => Assert.Equal(0f, v));
            }
        }
    }

    [Fact]
    public void Empty_dimensions()
    {
        foreach (var (m, k, n) in new[] { (0, 10, 5), (4, 0, 5), (4, 10, 0), (0, 0, 0) })
        {
            var p = new Problem(new ProductCase(m, k, n, 0.5, 1));
            CheckForward(p);
            CheckWeightGradient(p);
        }
    }

    [Fact]
    public void Results_do_not_depend_on_the_thread_count()
    {
        var p = new Problem(new ProductCase(256, 784, 300, 0.2, 42));
        var dense = new Problem(new ProductCase(256, 784, 300, 0.8, 43));
        var sums = dense.ColumnSums();
        int saved = Parallelism.MaxThreads;
        try
        {
            var results = new float[3][][];
            int[] threads = [1, 2, 4];
            for (int i = 0; i < threads.Length; i++)
            {
                Parallelism.MaxThreads = threads[i];
                var y = new float[p.M * p.N];
                SpikeAccumulate.Forward(p.Words, p.M, p.K, p.WeightT, p.N, p.Bias, y);
                var yc = new float[p.M * p.N];
                SpikeAccumulate.Forward(dense.Words, dense.M, dense.K, dense.WeightT, dense.N, dense.Bias, yc, columnSums: sums);
                var dw = new float[p.N * p.K];
                SpikeAccumulate.WeightGradient(p.Grad, p.Words, p.M, p.K, p.N, dw);
                var dwDense = new float[p.N * p.K];
                SpikeAccumulate.WeightGradient(dense.Grad, dense.Words, dense.M, dense.K, dense.N, dwDense);
                results[i] = [y, yc, dw, dwDense];
            }
            for (int i = 1; i < threads.Length; i++)
            {
                for (int j = 0; j < results[0].Length; j++)
                {
                    Reference.AssertBitwise(results[0][j], results[i][j], $"result {j} with {threads[i]} threads vs 1");
                }
            }
            var (expected, scale) = Reference.SpikeForward(p.Spikes, p.Weight, p.Bias, p.M, p.K, p.N);
            Reference.AssertClose(expected, results[1][0], scale, Rel, Abs, "parallel forward");
            var (dwExpected, dwScale) = Reference.SpikeWeightGradient(dense.Grad, dense.Spikes, dense.M, dense.K, dense.N);
            Reference.AssertClose(dwExpected, results[1][3], dwScale, Rel, Abs, "parallel weight gradient");
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }

    [Fact]
    public void MaxThreads_must_be_positive()
    {
        int saved = Parallelism.MaxThreads;
        Assert.Throws<ArgumentOutOfRangeException>(() => Parallelism.MaxThreads = 0);
        Assert.Equal(saved, Parallelism.MaxThreads);
    }

    [Fact]
    public void Forward_rejects_bad_spans_and_dimensions()
    {
        var p = new Problem(new ProductCase(5, 70, 9, 0.3, 7));
        var output = new float[p.M * p.N];
        var e = Assert.Throws<ArgumentException>(() => SpikeAccumulate.Forward(p.Words.AsSpan(1), p.M, p.K, p.WeightT, p.N, p.Bias, output));
        AssertNames(e, "spikes", "9", "10");
        e = Assert.Throws<ArgumentException>(() => SpikeAccumulate.Forward(p.Words, p.M, p.K, p.WeightT.AsSpan(1), p.N, p.Bias, output));
        AssertNames(e, "weightTransposed", "629", "630");
        e = Assert.Throws<ArgumentException>(() => SpikeAccumulate.Forward(p.Words, p.M, p.K, p.WeightT, p.N, new float[8], output));
        AssertNames(e, "bias", "8", "9");
        e = Assert.Throws<ArgumentException>(() => SpikeAccumulate.Forward(p.Words, p.M, p.K, p.WeightT, p.N, p.Bias, output, columnSums: new float[10]));
        AssertNames(e, "columnSums", "10", "9");
        e = Assert.Throws<ArgumentException>(() => SpikeAccumulate.Forward(p.Words, p.M, p.K, p.WeightT, p.N, p.Bias, output.AsSpan(1)));
        AssertNames(e, "output", "44", "45");
        e = Assert.Throws<ArgumentException>(() => SpikeAccumulate.ForwardReference(p.Words, p.M, p.K, p.WeightT, p.N, new float[3], output));
        AssertNames(e, "bias", "3", "9");

        e = Assert.ThrowsAny<ArgumentException>(() => SpikeAccumulate.Forward(p.Words, -1, p.K, p.WeightT, p.N, p.Bias, output));
        AssertNames(e, "m", "-1");
        e = Assert.ThrowsAny<ArgumentException>(() => SpikeAccumulate.Forward(p.Words, p.M, -2, p.WeightT, p.N, p.Bias, output));
        AssertNames(e, "k", "-2");
        e = Assert.ThrowsAny<ArgumentException>(() => SpikeAccumulate.Forward(p.Words, p.M, p.K, p.WeightT, -3, p.Bias, output));
        AssertNames(e, "n", "-3");
    }

    [Fact]
    public void WeightGradient_rejects_bad_spans_and_dimensions()
    {
        var p = new Problem(new ProductCase(5, 70, 9, 0.3, 7));
        var dw = new float[p.N * p.K];
        var e = Assert.Throws<ArgumentException>(() => SpikeAccumulate.WeightGradient(p.Grad.AsSpan(1), p.Words, p.M, p.K, p.N, dw));
        AssertNames(e, "gradOutput", "44", "45");
        e = Assert.Throws<ArgumentException>(() => SpikeAccumulate.WeightGradient(p.Grad, p.Words.AsSpan(2), p.M, p.K, p.N, dw));
        AssertNames(e, "spikes", "8", "10");
        e = Assert.Throws<ArgumentException>(() => SpikeAccumulate.WeightGradient(p.Grad, p.Words, p.M, p.K, p.N, dw.AsSpan(1)));
        AssertNames(e, "weightGradient", "629", "630");
        e = Assert.Throws<ArgumentException>(() => SpikeAccumulate.WeightGradientReference(p.Grad, p.Words, p.M, p.K, p.N, dw.AsSpan(1)));
        AssertNames(e, "weightGradient", "629", "630");
        e = Assert.ThrowsAny<ArgumentException>(() => SpikeAccumulate.WeightGradient(p.Grad, p.Words, p.M, -4, p.N, dw));
        AssertNames(e, "k", "-4");
    }

    private static void CheckForward(Problem p)
    {
        var (withBias, scaleWithBias) = Reference.SpikeForward(p.Spikes, p.Weight, p.Bias, p.M, p.K, p.N);
        var (noBias, scaleNoBias) = Reference.SpikeForward(p.Spikes, p.Weight, null, p.M, p.K, p.N);
        var sums = p.ColumnSums();
        int size = p.M * p.N;
        string what = p.Case.ToString();

        foreach (bool bias in new[] { true, false })
        {
            var expected = bias ? withBias : noBias;
            var scale = bias ? scaleWithBias : scaleNoBias;
            ReadOnlySpan<float> b = bias ? p.Bias : default;

            var reference = Filled(size, float.NaN);
            SpikeAccumulate.ForwardReference(p.Words, p.M, p.K, p.WeightT, p.N, b, reference);
            Reference.AssertClose(expected, reference, scale, Rel, Abs, $"ForwardReference bias={bias} {what}");

            var plain = Filled(size, float.NaN);
            SpikeAccumulate.Forward(p.Words, p.M, p.K, p.WeightT, p.N, b, plain);
            Reference.AssertClose(expected, plain, scale, Rel, Abs, $"Forward bias={bias} {what}");
            Reference.AssertBitwise(reference, plain, $"Forward vs ForwardReference bias={bias} {what}");

            var complement = Filled(size, float.NaN);
            SpikeAccumulate.Forward(p.Words, p.M, p.K, p.WeightT, p.N, b, complement, columnSums: sums);
            Reference.AssertClose(expected, complement, scale, Rel, Abs, $"Forward with column sums bias={bias} {what}");

            // accumulate: output += S·Wᵀ (+ b), on top of arbitrary prior contents.
            var prior = p.Prior.AsSpan(0, size).ToArray();
            var priorExpected = new double[size];
            var priorScale = new double[size];
            for (int i = 0; i < size; i++)
            {
                priorExpected[i] = expected[i] + prior[i];
                priorScale[i] = scale[i] + Math.Abs(prior[i]);
            }
            var acc = (float[])prior.Clone();
            SpikeAccumulate.Forward(p.Words, p.M, p.K, p.WeightT, p.N, b, acc, accumulate: true);
            Reference.AssertClose(priorExpected, acc, priorScale, Rel, Abs, $"Forward accumulate bias={bias} {what}");
            var accReference = (float[])prior.Clone();
            SpikeAccumulate.ForwardReference(p.Words, p.M, p.K, p.WeightT, p.N, b, accReference, accumulate: true);
            Reference.AssertBitwise(accReference, acc, $"Forward accumulate vs reference bias={bias} {what}");
            var accComplement = (float[])prior.Clone();
            SpikeAccumulate.Forward(p.Words, p.M, p.K, p.WeightT, p.N, b, accComplement, accumulate: true, columnSums: sums);
            Reference.AssertClose(priorExpected, accComplement, priorScale, Rel, Abs, $"Forward accumulate with column sums bias={bias} {what}");
        }

        // Output beyond M*N is left alone.
        var longer = Filled(size + 3, -5f);
        SpikeAccumulate.Forward(p.Words, p.M, p.K, p.WeightT, p.N, p.Bias, longer, columnSums: sums);
        Assert.Equal(new[] { -5f, -5f, -5f }, longer[size..]);
    }

    private static void CheckWeightGradient(Problem p)
    {
        var (expected, scale) = Reference.SpikeWeightGradient(p.Grad, p.Spikes, p.M, p.K, p.N);
        int size = p.N * p.K;
        string what = p.Case.ToString();

        var reference = Filled(size, float.NaN);
        SpikeAccumulate.WeightGradientReference(p.Grad, p.Words, p.M, p.K, p.N, reference);
        Reference.AssertClose(expected, reference, scale, Rel, Abs, $"WeightGradientReference {what}");

        var fast = Filled(size, float.NaN);
        SpikeAccumulate.WeightGradient(p.Grad, p.Words, p.M, p.K, p.N, fast);
        Reference.AssertClose(expected, fast, scale, Rel, Abs, $"WeightGradient {what}");

        // WeightGradient always has column sums, so only columns of S at most half dense take the plain,
        // reference-ordered sum; when every column is, the result is bitwise the reference's.
        if (p.EveryColumnAtMostHalfDense()) Reference.AssertBitwise(reference, fast, $"WeightGradient vs reference {what}");

        var prior = p.Prior.AsSpan(0, size).ToArray();
        var priorExpected = new double[size];
        var priorScale = new double[size];
        for (int i = 0; i < size; i++)
        {
            priorExpected[i] = expected[i] + prior[i];
            priorScale[i] = scale[i] + Math.Abs(prior[i]);
        }
        var acc = (float[])prior.Clone();
        SpikeAccumulate.WeightGradient(p.Grad, p.Words, p.M, p.K, p.N, acc, accumulate: true);
        Reference.AssertClose(priorExpected, acc, priorScale, Rel, Abs, $"WeightGradient accumulate {what}");
        var accReference = (float[])prior.Clone();
        SpikeAccumulate.WeightGradientReference(p.Grad, p.Words, p.M, p.K, p.N, accReference, accumulate: true);
        Reference.AssertClose(priorExpected, accReference, priorScale, Rel, Abs, $"WeightGradientReference accumulate {what}");
        if (p.EveryColumnAtMostHalfDense()) Reference.AssertBitwise(accReference, acc, $"WeightGradient accumulate vs reference {what}");
    }

    private static float[] Filled(int length, float value)
    {
        var a = new float[length];
        a.AsSpan().Fill(value);
        return a;
    }

    private static void AssertNames(ArgumentException e, string param, params string[] parts)
    {
        Assert.Equal(param, e.ParamName);
        foreach (var part in parts) Assert.Contains(part, e.Message, StringComparison.Ordinal);
    }
}

[Collection("Parallelism")]
/// <summary>Packing a weight from either layout gives the same panels, and the packed forward equals the reference.</summary>
public sealed class SpikeWeightPanelsTests
{
    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 40)]
    public void Packing_from_W_or_its_transpose_agrees_and_the_packed_forward_matches_the_reference(ProductCase c)
    {
        int m = c.M, k = c.K, n = c.N;
        var w = c.Normal(n * k, salt: 1);
        var wt = new float[k * n];
        for (int j = 0; j < n; j++)
        {
            for (int i = 0; i < k; i++) wt[i * n + j] = w[j * k + i];
        }
        using var fromW = new SpikeWeightPanels();
        using var fromWt = new SpikeWeightPanels();
        fromW.PackWeight(w, n, k);
        fromWt.PackTransposed(wt, k, n);
        Assert.Equal(fromW.Panels.ToArray(), fromWt.Panels.ToArray());
        Reference.AssertClose(ToDouble(fromW.ColumnSums), fromWt.ColumnSums, default, 1e-5, 1e-5, "column sums from either layout");

        using var spikes = c.Spikes(m, k).Create();
        var fast = new float[m * n];
        var reference = new float[m * n];
        SpikeAccumulate.Forward(spikes.Words, m, fromW, default, fast);
        SpikeAccumulate.ForwardReference(spikes.Words, m, k, wt, n, default, reference);
        for (int r = 0; r < m; r++)
        {
            int count = 0;
            foreach (ulong word in spikes.Row(r)) count += System.Numerics.BitOperations.PopCount(word);
            var expected = reference.AsSpan(r * n, n);
            var actual = fast.AsSpan(r * n, n);
            if (2 * count <= k)
            {
                Assert.True(expected.SequenceEqual(actual), $"row {r} (sparse path) differs from the reference");
            }
            else
            {
                var scale = new double[n];
                scale.AsSpan().Fill(k);
                Reference.AssertClose(ToDouble(expected), actual, scale, 1e-5, 1e-5, $"row {r} (complement path)");
            }
        }
    }

    [Fact]
    public void Packing_rejects_a_short_weight_naming_the_shape()
    {
        using var panels = new SpikeWeightPanels();
        var e = Assert.Throws<ArgumentException>(() => panels.PackTransposed(new float[10], 4, 3));
        Assert.Contains("[4, 3]", e.Message, StringComparison.Ordinal);
        Assert.Equal("weightTransposed", e.ParamName);
    }

    private static double[] ToDouble(ReadOnlySpan<float> values)
    {
        var d = new double[values.Length];
        for (int i = 0; i < d.Length; i++) d[i] = values[i];
        return d;
    }
}

public sealed class SpikeLinearTests
{
    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 50)]
    public void Forward_and_WeightGradient_fold_leading_axes(ProductCase c)
    {
        // [T, B, in] spikes with T * B = M; pick T as the largest divisor of M up to 5.
        int t = 1;
        for (int d = 2; d <= 5; d++)
        {
            if (c.M % d == 0) t = d;
        }
        int b = c.M / t;
        var dense = c.Spikes(c.M, c.K).Dense();
        var w = c.Normal(c.N * c.K, 1);
        var bias = c.Normal(c.N, 2);
        var g = c.Normal(c.M * c.N, 3);
        using var flat = c.Spikes(c.M, c.K).Create();
        using var spikes = flat.Reshape(t, b, c.K);
        using var weight = Tensor.FromArray(w, c.N, c.K);
        using var biasTensor = Tensor.FromArray(bias, c.N);

        var (expected, scale) = Reference.SpikeForward(dense, w, bias, c.M, c.K, c.N);
        using (var y = SpikeLinear.Forward(spikes, weight, biasTensor))
        {
            Assert.Equal(new Shape(t, b, c.N), y.Shape);
            Reference.AssertClose(expected, y.AsReadOnlySpan(), scale, 1e-5, 1e-5, $"forward {c}");
        }
        var (noBias, noBiasScale) = Reference.SpikeForward(dense, w, null, c.M, c.K, c.N);
        using (var cache = new TransposedWeightCache())
        using (var y = SpikeLinear.Forward(spikes, weight, cache: cache))
        {
            Reference.AssertClose(noBias, y.AsReadOnlySpan(), noBiasScale, 1e-5, 1e-5, $"forward without bias {c}");
        }

        using var grad = Tensor.FromArray(g, t, b, c.N);
        using var dw = SpikeLinear.WeightGradient(grad, spikes);
        Assert.Equal(new Shape(c.N, c.K), dw.Shape);
        var (dwExpected, dwScale) = Reference.SpikeWeightGradient(g, dense, c.M, c.K, c.N);
        Reference.AssertClose(dwExpected, dw.AsReadOnlySpan(), dwScale, 1e-5, 1e-5, $"weight gradient {c}");
    }

    [Theory]
    [InlineData(0.1, false)]
    [InlineData(0.24, false)]
    [InlineData(0.26, true)]
    [InlineData(0.9, true)]
    public void Dense_spikes_take_the_sgemm_path_and_agree_with_the_reference(double rate, bool dense)
    {
        var c = new ProductCase(64, 200, 33, rate, 17);
        var bits = c.Spikes(c.M, c.K).Dense();
        double measured = bits.Average(b => (double)b);
        using var spikes = c.Spikes(c.M, c.K).Create();
        Assert.Equal(measured >= SpikeLinear.DenseRate, SpikeLinear.IsDense(spikes));
        Assert.Equal(dense, SpikeLinear.IsDense(spikes));
        var w = c.Normal(c.N * c.K, 1);
        var g = c.Normal(c.M * c.N, 2);
        using var weight = Tensor.FromArray(w, c.N, c.K);
        using var y = SpikeLinear.Forward(spikes, weight);
        var (expected, scale) = Reference.SpikeForward(bits, w, null, c.M, c.K, c.N);
        Reference.AssertClose(expected, y.AsReadOnlySpan(), scale, 1e-5, 1e-5, $"forward at rate {rate}");
        using var grad = Tensor.FromArray(g, c.M, c.N);
        using var dw = SpikeLinear.WeightGradient(grad, spikes);
        var (dwExpected, dwScale) = Reference.SpikeWeightGradient(g, bits, c.M, c.K, c.N);
        Reference.AssertClose(dwExpected, dw.AsReadOnlySpan(), dwScale, 1e-5, 1e-5, $"weight gradient at rate {rate}");
    }

    [Fact]
    public void A_rank_one_input_is_one_row()
    {
        using var s = SpikeTensor.Zeros(5);
        s[[1]] = true;
        s[[4]] = true;
        using var w = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 10f, 20f, 30f, 40f, 50f], 2, 5);
        using var y = SpikeLinear.Forward(s, w);
        Assert.Equal(new Shape(2), y.Shape);
        Assert.Equal(new[] { 7f, 70f }, y.ToArray());
    }

    [Fact]
    public void The_cache_is_rebuilt_only_when_the_weight_changes()
    {
        var c = new ProductCase(12, 150, 20, 0.1, 5);
        var dense = c.Spikes(c.M, c.K).Dense();
        var w = c.Normal(c.N * c.K, 1);
        using var spikes = c.Spikes(c.M, c.K).Create();
        using var weight = Tensor.FromArray(w, c.N, c.K);
        using var cache = new TransposedWeightCache();

        void Check(string what)
        {
            using var y = SpikeLinear.Forward(spikes, weight, cache: cache);
            var (expected, scale) = Reference.SpikeForward(dense, w, null, c.M, c.K, c.N);
            Reference.AssertClose(expected, y.AsReadOnlySpan(), scale, 1e-5, 1e-5, what);
        }

        Check("first call");
        Assert.Equal(1, cache.Rebuilds);
        Check("unchanged weight");
        _ = weight.AsReadOnlySpan();
        _ = weight.ToArray();
        Check("read-only access");
        Assert.Equal(1, cache.Rebuilds);

        var span = weight.AsSpan();
        span[3] += 10f;
        w[3] += 10f;
        Check("after a write through AsSpan");
        Assert.Equal(2, cache.Rebuilds);
        Check("unchanged again");
        Assert.Equal(2, cache.Rebuilds);

        weight.SetValue(-8f, c.N - 1, c.K - 1);
        w[^1] = -8f;
        Check("after SetValue");
        Assert.Equal(3, cache.Rebuilds);

        using (var row = weight[0])
        {
            row.Fill(0.25f);
        }
        for (int k = 0; k < c.K; k++) w[k] = 0.25f;
        Check("after a write through a view of the weight");
        Assert.Equal(4, cache.Rebuilds);

        using var other = Tensor.FromArray(w, c.N, c.K);
        using (var y = SpikeLinear.Forward(spikes, other, cache: cache)) { }
        Assert.Equal(5, cache.Rebuilds);
    }

    [Fact]
    public void A_weight_of_the_wrong_shape_names_both_shapes()
    {
        using var spikes = SpikeTensor.Zeros(3, 4, 10);
        using var weight = Tensor.Zeros(6, 11);
        var e = Assert.Throws<ArgumentException>(() => SpikeLinear.Forward(spikes, weight));
        Assert.Contains("[3, 4, 10]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[6, 11]", e.Message, StringComparison.Ordinal);

        using var vector = Tensor.Zeros(10);
        var rank = Assert.Throws<ArgumentException>(() => SpikeLinear.Forward(spikes, vector));
        Assert.Equal("weight", rank.ParamName);
        Assert.Contains("[10]", rank.Message, StringComparison.Ordinal);

        using var good = Tensor.Zeros(6, 10);
        using var bias = Tensor.Zeros(5);
        var b = Assert.Throws<ArgumentException>(() => SpikeLinear.Forward(spikes, good, bias));
        Assert.Equal("bias", b.ParamName);
        Assert.Contains("[5]", b.Message, StringComparison.Ordinal);
        Assert.Contains("[6]", b.Message, StringComparison.Ordinal);

        using var grad = Tensor.Zeros(3, 5, 6);
        var g = Assert.Throws<ArgumentException>(() => SpikeLinear.WeightGradient(grad, spikes));
        Assert.Equal("gradOutput", g.ParamName);
        Assert.Contains("[3, 5, 6]", g.Message, StringComparison.Ordinal);
        Assert.Contains("[3, 4, 10]", g.Message, StringComparison.Ordinal);
    }
}
