using System;
using FsCheck.Xunit;
using Spiking.Tensors.Kernels;
using Xunit;

namespace Spiking.Tests.Kernels;

/// <summary>
/// <see cref="Gemm.Multiply"/> against a double-precision triple loop, for every transposition, with and
/// without accumulation, on shapes that are not multiples of the register tile, vector or cache block.
/// </summary>
public sealed class GemmTests
{
    private const double Rel = 1e-5;
    private const double Abs = 1e-6;

    private static readonly (bool A, bool B)[] s_transposes = [(false, false), (false, true), (true, false), (true, true)];

    [Property(Arbitrary = new[] { typeof(Generators) })]
    public void Multiply_matches_the_double_reference(ProductCase p)
    {
        foreach (var (ta, tb) in s_transposes)
        {
            foreach (bool accumulate in new[] { false, true })
            {
                CheckAgainstDouble(Problem.From(p), ta, tb, accumulate);
            }
        }
    }

    /// <summary>Past 288 rows the driver switches to a separate packing phase and several row tiles.</summary>
    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 12)]
    public void Multiply_with_many_rows_matches_the_double_reference(ProductCase p)
    {
        var q = Problem.From(p with { M = 289 + p.M * 3 });
        foreach (var (ta, tb) in s_transposes) CheckAgainstDouble(q, ta, tb, accumulate: p.Seed % 2 == 0);
    }

    [Property(Arbitrary = new[] { typeof(Generators) })]
    public void Multiply_matches_MultiplyReference(ProductCase p)
    {
        var q = Problem.From(p);
        foreach (var (ta, tb) in s_transposes)
        {
            var fast = new float[q.M * q.N];
            var plain = new float[q.M * q.N];
            Gemm.Multiply(q.A, ta, q.B, tb, fast, q.M, q.N, q.K);
            Gemm.MultiplyReference(q.A, ta, q.B, tb, plain, q.M, q.N, q.K);
            var scale = q.AbsProduct(ta, tb);
            for (int i = 0; i < fast.Length; i++)
            {
                double tol = 2 * (Abs + Rel * scale[i]);
                Assert.True(Math.Abs(fast[i] - plain[i]) <= tol, $"{q} {Name(ta, tb)}: element {i} is {fast[i]}, reference {plain[i]}.");
            }
        }
    }

    /// <summary>
    /// 130 rows take the path where compute items pack B themselves; 310 rows the one with a separate packing
    /// phase and several row tiles. Both cross K blocks (1100), column tiles and ragged register tiles.
    /// </summary>
    [Theory]
    [InlineData(130, false, false)]
    [InlineData(130, false, true)]
    [InlineData(130, true, false)]
    [InlineData(130, true, true)]
    [InlineData(310, false, false)]
    [InlineData(310, false, true)]
    [InlineData(310, true, false)]
    [InlineData(310, true, true)]
    public void A_product_crossing_every_block_boundary_matches(int m, bool transposeA, bool transposeB)
    {
        var q = Problem.Create(m, 300, 1100, seed: 11);
        CheckAgainstDouble(q, transposeA, transposeB, accumulate: false);
        CheckAgainstDouble(q, transposeA, transposeB, accumulate: true);
    }

    [Fact]
    public void A_tall_product_and_a_wide_product_match()
    {
        CheckAgainstDouble(Problem.Create(1000, 17, 40, seed: 3), false, false, accumulate: false);
        CheckAgainstDouble(Problem.Create(5, 2000, 33, seed: 4), true, true, accumulate: true);
    }

    [Fact]
    public void K_zero_clears_C_or_leaves_it_when_accumulating()
    {
        var c = new float[] { 1, 2, 3, 4, 5, 6 };
        Gemm.Multiply([], false, [], false, c, 2, 3, 0, accumulate: true);
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, c);
        Gemm.Multiply([], false, [], false, c, 2, 3, 0);
        Assert.Equal(new float[6], c);
    }

    [Fact]
    public void An_empty_result_touches_nothing()
    {
        var c = new float[] { 7 };
        Gemm.Multiply([], false, new float[15], false, c, 0, 5, 3);
        Gemm.Multiply(new float[12], false, [], false, c, 4, 0, 3);
        Assert.Equal(7f, c[0]);
    }

    [Fact]
    public void Only_the_first_M_times_N_elements_of_C_are_written()
    {
        var q = Problem.Create(40, 50, 60, seed: 5);
        var c = new float[q.M * q.N + 3];
        c.AsSpan(q.M * q.N).Fill(9f);
        Gemm.Multiply(q.A, false, q.B, false, c, q.M, q.N, q.K);
        Assert.Equal(new float[] { 9, 9, 9 }, c[(q.M * q.N)..]);
    }

    [Theory]
    [InlineData(-1, 2, 3, "m", "-1")]
    [InlineData(2, -4, 3, "n", "-4")]
    [InlineData(2, 2, -7, "k", "-7")]
    public void A_negative_dimension_throws(int m, int n, int k, string param, string value)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => Gemm.Multiply(new float[64], false, new float[64], false, new float[64], m, n, k));
        Assert.Equal(param, e.ParamName);
        Assert.Contains(value, e.Message, StringComparison.Ordinal);
        Assert.ThrowsAny<ArgumentException>(() => Gemm.MultiplyReference(new float[64], false, new float[64], false, new float[64], m, n, k));
    }

    [Theory]
    [InlineData(5, 12, 12, "a", "5", "6")]
    [InlineData(6, 11, 12, "b", "11", "12")]
    [InlineData(6, 12, 7, "c", "7", "8")]
    public void A_short_span_throws_with_the_sizes(int aLength, int bLength, int cLength, string param, string seen, string needed)
    {
        var e = Assert.ThrowsAny<ArgumentException>(
            () => Gemm.Multiply(new float[aLength], true, new float[bLength], false, new float[cLength], 2, 4, 3));
        Assert.Equal(param, e.ParamName);
        Assert.Contains($"holds {seen} ", e.Message, StringComparison.Ordinal);
        Assert.Contains($"needs {needed}", e.Message, StringComparison.Ordinal);
        Assert.ThrowsAny<ArgumentException>(
            () => Gemm.MultiplyReference(new float[aLength], true, new float[bLength], false, new float[cLength], 2, 4, 3));
    }

    [Fact]
    public void C_overlapping_an_operand_throws()
    {
        var buffer = new float[40];
        var e = Assert.ThrowsAny<ArgumentException>(() => Gemm.Multiply(buffer.AsSpan(0, 12), false, new float[12], false, buffer.AsSpan(8, 9), 3, 3, 4));
        Assert.Equal("c", e.ParamName);
        Assert.ThrowsAny<ArgumentException>(() => Gemm.MultiplyReference(new float[12], false, buffer.AsSpan(0, 12), false, buffer.AsSpan(11, 9), 3, 3, 4));
    }

    private static void CheckAgainstDouble(Problem q, bool ta, bool tb, bool accumulate)
    {
        var c = accumulate ? (float[])q.C0.Clone() : new float[q.M * q.N];
        Gemm.Multiply(q.A, ta, q.B, tb, c, q.M, q.N, q.K, accumulate);
        var expected = Reference.MatMul(q.A, ta, q.B, tb, q.M, q.N, q.K);
        var scale = q.AbsProduct(ta, tb);
        if (accumulate)
        {
            for (int i = 0; i < expected.Length; i++)
            {
                expected[i] += q.C0[i];
                scale[i] += Math.Abs(q.C0[i]);
            }
        }
        Reference.AssertClose(expected, c, scale, Rel, Abs, $"{q} {Name(ta, tb)}{(accumulate ? " accumulate" : "")}");
    }

    private static string Name(bool ta, bool tb) => $"{(ta ? 'T' : 'N')}{(tb ? 'T' : 'N')}";

    /// <summary>Operands for op(A)[M,K]·op(B)[K,N]; the stored layouts differ by transposition but not the element count.</summary>
    private sealed record Problem(int M, int N, int K, float[] A, float[] B, float[] C0)
    {
        public static Problem From(ProductCase p) => Create(p.M, p.N, p.K, p);

        public static Problem Create(int m, int n, int k, int seed) => Create(m, n, k, new ProductCase(m, k, n, 0, seed));

        private static Problem Create(int m, int n, int k, ProductCase p) =>
            new(m, n, k, p.Normal(m * k, 1), p.Normal(k * n, 2), p.Normal(m * n, 3));

        /// <summary>Σ|a·b| per element: the magnitude a float32 sum could lose precision against.</summary>
        public double[] AbsProduct(bool ta, bool tb) =>
            Reference.MatMul(Array.ConvertAll(A, Math.Abs), ta, Array.ConvertAll(B, Math.Abs), tb, M, N, K);

        public override string ToString() => $"[{M}x{K}]·[{K}x{N}]";
    }
}
