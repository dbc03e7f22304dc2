using System;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;
using Xunit;

namespace Spiking.Tests.Kernels;

public sealed class SpikePopcountTests
{
    [Property(Arbitrary = new[] { typeof(Generators) })]
    public void Counts_equal_the_dense_product_of_zeros_and_ones(PopcountCase problem)
    {
        using var a = problem.Left.Create();
        using var b = problem.Right.Create();
        var expected = DenseProduct(problem.Left.Dense(), problem.Right.Dense(), problem.M, problem.N, problem.D);
        Assert.Equal(expected, SpikePopcount.AndPopcount(a, b));

        var reference = new int[problem.M * problem.N];
        SpikePopcount.AndPopcountReference(a.Words, problem.M, b.Words, problem.N, a.WordsPerRow, reference);
        Assert.Equal(expected, reference);
    }

    [Theory]
    [InlineData(3, 5, 8_000, 1.0)]
    [InlineData(4, 3, 9_001, 1.0)]
    [InlineData(5, 6, 16_000, 0.5)]
    [InlineData(2, 2, 8_127, 0.9)]
    [InlineData(3, 5, 33_000, 1.0)]
    [InlineData(2, 3, 70_001, 0.3)]
    public void Long_rows_do_not_overflow_the_byte_counters_and_span_segments(int m, int n, int d, double rate)
    {
        var left = new SpikeCase(m, d, rate, 1);
        var right = new SpikeCase(n, d, rate, 2);
        using var a = left.Create();
        using var b = right.Create();
        Assert.Equal(DenseProduct(left.Dense(), right.Dense(), m, n, d), SpikePopcount.AndPopcount(a, b));
    }

    [Theory]
    [InlineData(0, 4, 70)]
    [InlineData(4, 0, 70)]
    [InlineData(3, 5, 0)]
    public void Empty_operands_give_empty_or_zero_counts(int m, int n, int d)
    {
        using var a = SpikeTensor.Zeros(m, d);
        using var b = SpikeTensor.Zeros(n, d);
        var c = new int[m * n];
        c.AsSpan().Fill(-1);
        SpikePopcount.AndPopcount(a, b, c);
        Assert.All(c, x => Assert.Equal(0, x));
    }

    [Fact]
    public void Mismatched_operands_are_rejected_naming_the_shapes()
    {
        using var a = SpikeTensor.Zeros(4, 100);
        using var b = SpikeTensor.Zeros(6, 101);
        var e = Assert.Throws<ArgumentException>(() => SpikePopcount.AndPopcount(a, b));
        Assert.Contains("[4, 100]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[6, 101]", e.Message, StringComparison.Ordinal);

        using var cube = SpikeTensor.Zeros(2, 2, 100);
        e = Assert.Throws<ArgumentException>(() => SpikePopcount.AndPopcount(cube, a));
        Assert.Contains("[2, 2, 100]", e.Message, StringComparison.Ordinal);

        using var b2 = SpikeTensor.Zeros(6, 100);
        e = Assert.Throws<ArgumentException>(() => SpikePopcount.AndPopcount(a, b2, new int[23]));
        Assert.Contains("23", e.Message, StringComparison.Ordinal);
        Assert.Contains("24", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<ArgumentException>(() => SpikePopcount.AndPopcount(new ulong[7], 4, new ulong[12], 6, 2, new int[24]));
        Assert.Contains("7", e.Message, StringComparison.Ordinal);
        Assert.Contains("8", e.Message, StringComparison.Ordinal);
    }

    /// <summary>The naive integer product <c>Σ_k a[i, k] · b[j, k]</c> of unpacked 0/1 matrices.</summary>
    internal static int[] DenseProduct(float[] a, float[] b, int m, int n, int d)
    {
        var c = new int[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                int s = 0;
                for (int k = 0; k < d; k++) s += (int)a[i * d + k] * (int)b[j * d + k];
                c[i * n + j] = s;
            }
        }
        return c;
    }
}
