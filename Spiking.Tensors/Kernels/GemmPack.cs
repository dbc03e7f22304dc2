using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// Copies slivers of op(A) and op(B) into the order the micro-kernel reads them, absorbing the transposes so
/// one micro-kernel serves every combination. Rows or columns past the matrix edge are packed as zeros; their
/// results land only in parts of the register tile that are never written back. Where a sliver gathers across
/// rows of the stored matrix, AVX transposes eight columns at a time in registers instead of one float at a time.
/// </summary>
internal static class GemmPack
{
    /// <summary>Rows of B (stored [k, n]) one packing work item copies across the full width.</summary>
    public const int RowGroup = 16;

    /// <summary>Slivers of A (stored transposed) one packing work item fills, reading 48 contiguous floats a row.</summary>
    public const int PanelGroup = 8;

    /// <summary>
    /// Packs the MR-row slivers of op(A) rows [i, rowEnd) for the K block (p0, kc), where A is stored
    /// transposed, [k, m]: each stored row holds the slivers' values side by side, and sliver q goes to
    /// <c>dst + q*MR*kc</c> as <c>[p*MR + r]</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void ATransposed(float* a, int m, int i, int rowEnd, int p0, int kc, float* dst)
    {
        const int mr = GemmPlan.MR;
        int rows = rowEnd - i;
        int full = rows / mr;
        int rest = rows - full * mr;
        long panelStride = (long)mr * kc;
        float* src = a + (long)p0 * m + i;
        for (int p = 0; p < kc; p++, src += m)
        {
            float* d = dst + p * mr;
            float* s = src;
            for (int q = 0; q < full; q++, d += panelStride, s += mr)
            {
                Unsafe.WriteUnaligned(d, Unsafe.ReadUnaligned<Vector128<float>>(s));
                Unsafe.WriteUnaligned(d + 4, Unsafe.ReadUnaligned<long>(s + 4));
            }
            if (rest > 0)
            {
                int r = 0;
                for (; r < rest; r++) d[r] = s[r];
                for (; r < mr; r++) d[r] = 0f;
            }
        }
    }

    /// <summary>Packs op(A)[i..i+MR, p0..p0+kc] as <c>dst[p*MR + r]</c>, where A is stored [m, k].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void ASliver(float* a, int m, int k, int i, int p0, int kc, float* dst)
    {
        const int mr = GemmPlan.MR;
        int rows = Math.Min(mr, m - i);
        float* row = a + (long)i * k + p0;
        if (rows == mr)
        {
            float* r0 = row, r1 = r0 + k, r2 = r1 + k, r3 = r2 + k, r4 = r3 + k, r5 = r4 + k;
            int p = 0;
            if (Avx.IsSupported)
            {
                for (; p + 8 <= kc; p += 8, dst += 8 * mr) Transpose6x8(r0 + p, k, dst);
            }
            for (; p < kc; p++, dst += mr)
            {
                dst[0] = r0[p];
                dst[1] = r1[p];
                dst[2] = r2[p];
                dst[3] = r3[p];
                dst[4] = r4[p];
                dst[5] = r5[p];
            }
            return;
        }
        for (int p = 0; p < kc; p++, dst += mr)
        {
            int r = 0;
            for (; r < rows; r++) dst[r] = row[(long)r * k + p];
            for (; r < mr; r++) dst[r] = 0f;
        }
    }

    /// <summary>
    /// Packs rows p0..p0+rows of op(B) = B (stored [k, n]) over the columns [j0, j1) into the consecutive
    /// slivers of <c>nr * kc</c> floats that start at <paramref name="dst"/>, itself offset to row p0 of the K
    /// block. Each sliver row is one contiguous load from B, and each sliver is written front to back.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void BRows<TSimd, TVec>(float* b, int n, int j0, int j1, int p0, int rows, int kc, float* dst)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int w = TSimd.Count;
        int nr = 2 * w;
        long sliverStride = (long)nr * kc;
        int cols = j1 - j0;
        float* top = b + (long)p0 * n + j0;
        int c = 0;
        for (; c + nr <= cols; c += nr, dst += sliverStride)
        {
            float* src = top + c;
            float* d = dst;
            for (int p = 0; p < rows; p++, src += n, d += nr)
            {
                TSimd.Store(TSimd.Load(ref *src), ref *d);
                TSimd.Store(TSimd.Load(ref src[w]), ref d[w]);
            }
        }
        if (c < cols)
        {
            float* src = top + c;
            for (int p = 0; p < rows; p++, src += n, dst += nr)
            {
                int s = 0;
                for (; s < cols - c; s++) dst[s] = src[s];
                for (; s < nr; s++) dst[s] = 0f;
            }
        }
    }

    /// <summary>
    /// Packs op(B)[p0..p0+kc, j..j+nr] as <c>dst[p*nr + c]</c>, nr being two vectors, where op(B) = B is
    /// stored [k, n].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void BSliver<TSimd, TVec>(float* b, int n, int j, int p0, int kc, float* dst)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int w = TSimd.Count;
        int nr = 2 * w;
        int cols = Math.Min(nr, n - j);
        float* src = b + (long)p0 * n + j;
        if (cols == nr)
        {
            for (int p = 0; p < kc; p++, src += n, dst += nr)
            {
                TSimd.Store(TSimd.Load(ref *src), ref *dst);
                TSimd.Store(TSimd.Load(ref src[w]), ref dst[w]);
            }
            return;
        }
        for (int p = 0; p < kc; p++, src += n, dst += nr)
        {
            int c = 0;
            for (; c < cols; c++) dst[c] = src[c];
            for (; c < nr; c++) dst[c] = 0f;
        }
    }

    /// <summary>
    /// Fetches into L2 the share <paramref name="part"/> of <paramref name="parts"/> of the cache lines that
    /// packing the B sliver (j, p0, kc) will read, so a sliver's DRAM latency hides behind the previous
    /// sliver's arithmetic.
    /// </summary>
    public static unsafe void PrefetchB(float* b, bool transpose, int n, int k, int j, int p0, int kc, int nr, int part, int parts)
    {
        if (!Sse.IsSupported) return;
        int cols = Math.Min(nr, n - j);
        if (transpose)
        {
            for (int c = cols * part / parts, end = cols * (part + 1) / parts; c < end; c++)
            {
                float* row = b + (long)(j + c) * k + p0;
                for (int o = 0; o < kc; o += 16) Sse.Prefetch1(row + o);
                Sse.Prefetch1(row + kc - 1);
            }
            return;
        }
        for (int p = kc * part / parts, end = kc * (part + 1) / parts; p < end; p++)
        {
            float* row = b + (long)(p0 + p) * n + j;
            Sse.Prefetch1(row);
            Sse.Prefetch1(row + cols - 1);
        }
    }

    /// <summary>
    /// Packs op(B)[p0..p0+kc, j..j+nr] as <c>dst[p*nr + c]</c> where B is stored transposed, [n, k], so each
    /// sliver column is a contiguous run of a stored row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void BTransposed(float* b, int n, int k, int j, int p0, int kc, int nr, float* dst)
    {
        int cols = Math.Min(nr, n - j);
        float* column = b + (long)j * k + p0;
        int c = 0;
        if (Avx.IsSupported)
        {
            for (; c + 8 <= cols; c += 8, column += 8L * k) Transpose8(column, k, kc, dst + c, nr);
        }
        for (; c < cols; c++, column += k)
        {
            for (int p = 0; p < kc; p++) dst[p * nr + c] = column[p];
        }
        for (; c < nr; c++)
        {
            for (int p = 0; p < kc; p++) dst[p * nr + c] = 0f;
        }
    }

    /// <summary>
    /// <c>dst[p*stride + r] = src[r*ld + p]</c> for r &lt; 8, p &lt; kc: eight rows read side by side, transposed
    /// eight by eight in registers.
    /// </summary>
    private static unsafe void Transpose8(float* src, int ld, int kc, float* dst, int stride)
    {
        float* s0 = src, s1 = s0 + ld, s2 = s1 + ld, s3 = s2 + ld, s4 = s3 + ld, s5 = s4 + ld, s6 = s5 + ld, s7 = s6 + ld;
        int p = 0;
        for (; p + 8 <= kc; p += 8) Transpose.Block8(src + p, ld, dst + (long)p * stride, stride);
        for (; p < kc; p++)
        {
            float* d = dst + (long)p * stride;
            d[0] = s0[p];
            d[1] = s1[p];
            d[2] = s2[p];
            d[3] = s3[p];
            d[4] = s4[p];
            d[5] = s5[p];
            d[6] = s6[p];
            d[7] = s7[p];
        }
    }

    /// <summary>
    /// <c>dst[p*6 + r] = src[r*ld + p]</c> for r &lt; 6, p &lt; 8: rows 0-3 transposed four by four within each
    /// 128-bit lane, rows 4-5 interleaved in pairs, stored in 16- and 8-byte pieces so nothing spills past the
    /// 48 floats.
    /// </summary>
    private static unsafe void Transpose6x8(float* src, int ld, float* dst)
    {
        var r0 = Avx.LoadVector256(src);
        var r1 = Avx.LoadVector256(src + ld);
        var r2 = Avx.LoadVector256(src + 2L * ld);
        var r3 = Avx.LoadVector256(src + 3L * ld);
        var r4 = Avx.LoadVector256(src + 4L * ld);
        var r5 = Avx.LoadVector256(src + 5L * ld);
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var v0 = Avx.UnpackLow(r4, r5);
        var v1 = Avx.UnpackHigh(r4, r5);
        Sse.Store(dst, u0.GetLower());
        Sse.Store(dst + 6, u1.GetLower());
        Sse.Store(dst + 12, u2.GetLower());
        Sse.Store(dst + 18, u3.GetLower());
        Sse.Store(dst + 24, u0.GetUpper());
        Sse.Store(dst + 30, u1.GetUpper());
        Sse.Store(dst + 36, u2.GetUpper());
        Sse.Store(dst + 42, u3.GetUpper());
        var v0Low = v0.GetLower();
        var v1Low = v1.GetLower();
        var v0High = v0.GetUpper();
        var v1High = v1.GetUpper();
        Sse.StoreLow(dst + 4, v0Low);
        Sse.StoreHigh(dst + 10, v0Low);
        Sse.StoreLow(dst + 16, v1Low);
        Sse.StoreHigh(dst + 22, v1Low);
        Sse.StoreLow(dst + 28, v0High);
        Sse.StoreHigh(dst + 34, v0High);
        Sse.StoreLow(dst + 40, v1High);
        Sse.StoreHigh(dst + 46, v1High);
    }
}
