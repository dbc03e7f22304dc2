using System;
using System.Runtime.CompilerServices;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// Copies slivers of op(A) and op(B) into the order the micro-kernel reads them, absorbing the transposes so
/// one micro-kernel serves every combination. Rows or columns past the matrix edge are packed as zeros; their
/// results land only in parts of the register tile that are never written back.
/// </summary>
internal static class GemmPack
{
    /// <summary>
    /// Packs op(A)[i..i+MR, p0..p0+kc] as <c>dst[p*MR + r]</c>. op(A) is [m, k]: A is stored [m, k], or [k, m]
    /// when <paramref name="transpose"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void A(float* a, bool transpose, int m, int k, int i, int p0, int kc, float* dst)
    {
        const int mr = GemmPlan.MR;
        int rows = Math.Min(mr, m - i);
        if (transpose)
        {
            float* src = a + (long)p0 * m + i;
            for (int p = 0; p < kc; p++, src += m, dst += mr)
            {
                int r = 0;
                for (; r < rows; r++) dst[r] = src[r];
                for (; r < mr; r++) dst[r] = 0f;
            }
            return;
        }

        float* row = a + (long)i * k + p0;
        if (rows == mr)
        {
            float* r0 = row, r1 = r0 + k, r2 = r1 + k, r3 = r2 + k, r4 = r3 + k, r5 = r4 + k;
            for (int p = 0; p < kc; p++, dst += mr)
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
    /// Packs op(B)[p0..p0+kc, j..j+nr] as <c>dst[p*nr + c]</c>, nr being two vectors. op(B) is [k, n]: B is
    /// stored [k, n], or [n, k] when <paramref name="transpose"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void B<TSimd, TVec>(float* b, bool transpose, int n, int k, int j, int p0, int kc, float* dst)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int w = TSimd.Count;
        int nr = 2 * w;
        int cols = Math.Min(nr, n - j);
        if (transpose)
        {
            float* column = b + (long)j * k + p0;
            int c = 0;
            for (; c < cols; c++, column += k)
            {
                for (int p = 0; p < kc; p++) dst[p * nr + c] = column[p];
            }
            for (; c < nr; c++)
            {
                for (int p = 0; p < kc; p++) dst[p * nr + c] = 0f;
            }
            return;
        }

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
}
