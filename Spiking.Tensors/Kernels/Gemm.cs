using System;
using System.Runtime.Intrinsics;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// Dense single-precision matrix multiplication (SGEMM) on row-major contiguous matrices: a cache-blocked,
/// packed, register-tiled kernel that is parallel over a shape-only partition of C, so its result is bitwise
/// identical whatever <see cref="Parallelism.MaxThreads"/> is.
/// </summary>
public static class Gemm
{
    /// <summary>Below this many multiply-adds, packing costs more than it saves.</summary>
    private const long SmallWork = 32_768;

    /// <summary>Rows of A up to which <c>A·Bᵀ</c> runs as dot products of rows.</summary>
    private const int DotRows = 4;

    /// <summary>Beyond this, rounding M or N up to whole tiles could overflow the blocked driver's int arithmetic.</summary>
    private const int MaxBlockedDimension = int.MaxValue - 4096;

    /// <summary>
    /// <c>C[M,N] = op(A)·op(B)</c>, or <c>C += op(A)·op(B)</c> when <paramref name="accumulate"/>, all row-major
    /// and contiguous. op(A) is [M,K]: A is stored [M,K], or [K,M] when <paramref name="transposeA"/>. op(B) is
    /// [K,N]: B is stored [K,N], or [N,K] when <paramref name="transposeB"/>. Only the first M·N elements of
    /// <paramref name="c"/> are touched; C must not overlap A or B.
    /// </summary>
    /// <param name="a">The left operand, at least M·K elements.</param>
    /// <param name="transposeA">Whether <paramref name="a"/> holds A transposed, as [K,M].</param>
    /// <param name="b">The right operand, at least K·N elements.</param>
    /// <param name="transposeB">Whether <paramref name="b"/> holds B transposed, as [N,K].</param>
    /// <param name="c">The result, at least M·N elements.</param>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="n">Columns of op(B) and C.</param>
    /// <param name="k">Columns of op(A), rows of op(B); with K = 0, C becomes zero (or is left as is when accumulating).</param>
    /// <param name="accumulate">Add the product to C instead of overwriting it.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    /// <exception cref="ArgumentException">A span is shorter than its matrix, or C overlaps A or B.</exception>
    public static void Multiply(
        ReadOnlySpan<float> a, bool transposeA, ReadOnlySpan<float> b, bool transposeB, Span<float> c,
        int m, int n, int k, bool accumulate = false)
    {
        Validate(a, b, c, m, n, k);
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate) c[..(m * n)].Clear();
            return;
        }
        if (!transposeA && transposeB && m <= DotRows)
        {
            Dots(a, b, c, m, n, k, accumulate);
            return;
        }
        if ((long)m * n * k < SmallWork || m > MaxBlockedDimension || n > MaxBlockedDimension)
        {
            Naive(a, transposeA, b, transposeB, c, m, n, k, accumulate);
            return;
        }
        switch (SimdWidth.Bits)
        {
            case 512: GemmBlocked.Run<Simd512, Vector512<float>>(a, transposeA, b, transposeB, c, m, n, k, accumulate); break;
            case 256: GemmBlocked.Run<Simd256, Vector256<float>>(a, transposeA, b, transposeB, c, m, n, k, accumulate); break;
            case 128: GemmBlocked.Run<Simd128, Vector128<float>>(a, transposeA, b, transposeB, c, m, n, k, accumulate); break;
            default: Naive(a, transposeA, b, transposeB, c, m, n, k, accumulate); break;
        }
    }

    /// <summary>
    /// The plain triple loop (float accumulation, k ascending) that <see cref="Multiply"/> is tested against;
    /// same parameters, same validation, same result up to rounding.
    /// </summary>
    /// <param name="a">The left operand, at least M·K elements.</param>
    /// <param name="transposeA">Whether <paramref name="a"/> holds A transposed, as [K,M].</param>
    /// <param name="b">The right operand, at least K·N elements.</param>
    /// <param name="transposeB">Whether <paramref name="b"/> holds B transposed, as [N,K].</param>
    /// <param name="c">The result, at least M·N elements.</param>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="n">Columns of op(B) and C.</param>
    /// <param name="k">Columns of op(A), rows of op(B).</param>
    /// <param name="accumulate">Add the product to C instead of overwriting it.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    /// <exception cref="ArgumentException">A span is shorter than its matrix, or C overlaps A or B.</exception>
    public static void MultiplyReference(
        ReadOnlySpan<float> a, bool transposeA, ReadOnlySpan<float> b, bool transposeB, Span<float> c,
        int m, int n, int k, bool accumulate = false)
    {
        Validate(a, b, c, m, n, k);
        Naive(a, transposeA, b, transposeB, c, m, n, k, accumulate);
    }

    /// <summary>
    /// <c>C = A·Bᵀ</c> for a few rows of A as dot products of contiguous rows: a Linear layer on one token (recurrent
    /// generation) multiplies one row by the weight, and the blocked kernel would pack all of B for it, more work than
    /// the product (SpikeGPT's one-token step: 20 of its 28 products went to the scalar loop, the rest to packing).
    /// </summary>
    private static void Dots(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k, bool accumulate)
    {
        for (int i = 0; i < m; i++)
        {
            var row = a.Slice(i * k, k);
            for (int j = 0; j < n; j++)
            {
                float sum = System.Numerics.Tensors.TensorPrimitives.Dot(row, b.Slice(j * k, k));
                c[i * n + j] = accumulate ? c[i * n + j] + sum : sum;
            }
        }
    }

    private static void Naive(
        ReadOnlySpan<float> a, bool transposeA, ReadOnlySpan<float> b, bool transposeB, Span<float> c,
        int m, int n, int k, bool accumulate)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float sum = 0f;
                for (int p = 0; p < k; p++)
                {
                    float x = transposeA ? a[p * m + i] : a[i * k + p];
                    float y = transposeB ? b[j * k + p] : b[p * n + j];
                    sum += x * y;
                }
                c[i * n + j] = accumulate ? c[i * n + j] + sum : sum;
            }
        }
    }

    private static void Validate(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k)
    {
        if (m < 0) throw new ArgumentOutOfRangeException(nameof(m), m, $"Dimension m is {m}; it must not be negative.");
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n), n, $"Dimension n is {n}; it must not be negative.");
        if (k < 0) throw new ArgumentOutOfRangeException(nameof(k), k, $"Dimension k is {k}; it must not be negative.");
        CheckLength(a.Length, m, k, nameof(a), "op(A)");
        CheckLength(b.Length, k, n, nameof(b), "op(B)");
        CheckLength(c.Length, m, n, nameof(c), "C");
        var result = c[..(m * n)];
        if (result.Overlaps(a[..(m * k)]) || result.Overlaps(b[..(k * n)]))
        {
            throw new ArgumentException($"C [{m}, {n}] overlaps an operand; it is written while they are still read.", nameof(c));
        }
    }

    private static void CheckLength(int length, int rows, int cols, string paramName, string what)
    {
        long needed = (long)rows * cols;
        if (length < needed)
        {
            throw new ArgumentException(
                $"Span '{paramName}' holds {length} elements but {what} [{rows}, {cols}] needs {needed}.", paramName);
        }
    }
}
