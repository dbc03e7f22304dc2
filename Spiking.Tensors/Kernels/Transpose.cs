using System;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Spiking.Tensors.Kernels;

/// <summary>Out-of-place transposes of row-major float matrices: 8×8 blocks in AVX registers, tiled so both sides stay in cache.</summary>
public static class Transpose
{
    private const int Tile = 32;

    /// <summary>Writes the transpose of <paramref name="source"/> (<c>[rows, columns]</c>) into <paramref name="destination"/> (<c>[columns, rows]</c>).</summary>
    /// <exception cref="ArgumentException">A span is too short for the shape.</exception>
    public static unsafe void Matrix(ReadOnlySpan<float> source, int rows, int columns, Span<float> destination)
    {
        Check(source, rows, columns, destination);
        int r8 = Avx.IsSupported ? rows & ~7 : 0, c8 = Avx.IsSupported ? columns & ~7 : 0;
        fixed (float* src = source, dst = destination)
        {
            for (int r0 = 0; r0 < r8; r0 += Tile)
            {
                int r1 = Math.Min(r8, r0 + Tile);
                for (int c0 = 0; c0 < c8; c0 += Tile)
                {
                    int c1 = Math.Min(c8, c0 + Tile);
                    for (int r = r0; r < r1; r += 8)
                    {
                        for (int c = c0; c < c1; c += 8) Block8(src + (long)r * columns + c, columns, dst + (long)c * rows + r, rows);
                    }
                }
            }
        }
        for (int r = 0; r < rows; r++)
        {
            for (int c = r < r8 ? c8 : 0; c < columns; c++) destination[c * rows + r] = source[r * columns + c];
        }
    }

    /// <summary>The plain tiled element-by-element transpose <see cref="Matrix"/> is tested against.</summary>
    /// <exception cref="ArgumentException">A span is too short for the shape.</exception>
    public static void MatrixReference(ReadOnlySpan<float> source, int rows, int columns, Span<float> destination)
    {
        Check(source, rows, columns, destination);
        for (int r0 = 0; r0 < rows; r0 += Tile)
        {
            int r1 = Math.Min(rows, r0 + Tile);
            for (int c0 = 0; c0 < columns; c0 += Tile)
            {
                int c1 = Math.Min(columns, c0 + Tile);
                for (int r = r0; r < r1; r++)
                {
                    for (int c = c0; c < c1; c++) destination[c * rows + r] = source[r * columns + c];
                }
            }
        }
    }

    /// <summary>
    /// <c>dst[j·dstStride + i] = src[i·srcStride + j]</c> for i, j &lt; 8: eight rows loaded side by side and
    /// transposed in AVX registers (unpack, shuffle, lane permute). The caller checks <see cref="Avx.IsSupported"/>.
    /// </summary>
    internal static unsafe void Block8(float* src, int srcStride, float* dst, int dstStride)
    {
        var r0 = Avx.LoadVector256(src);
        var r1 = Avx.LoadVector256(src + srcStride);
        var r2 = Avx.LoadVector256(src + 2L * srcStride);
        var r3 = Avx.LoadVector256(src + 3L * srcStride);
        var r4 = Avx.LoadVector256(src + 4L * srcStride);
        var r5 = Avx.LoadVector256(src + 5L * srcStride);
        var r6 = Avx.LoadVector256(src + 6L * srcStride);
        var r7 = Avx.LoadVector256(src + 7L * srcStride);
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + dstStride, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2L * dstStride, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3L * dstStride, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4L * dstStride, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5L * dstStride, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6L * dstStride, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7L * dstStride, Avx.Permute2x128(u3, u7, 0x31));
    }

    private static void Check(ReadOnlySpan<float> source, int rows, int columns, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        long count = (long)rows * columns;
        if (source.Length < count) throw new ArgumentException($"Source holds {source.Length} floats; [{rows}, {columns}] needs {count}.", nameof(source));
        if (destination.Length < count) throw new ArgumentException($"Destination holds {destination.Length} floats; [{columns}, {rows}] needs {count}.", nameof(destination));
    }
}
