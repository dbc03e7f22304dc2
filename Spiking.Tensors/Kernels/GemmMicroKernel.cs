using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// The register-tiled heart of <see cref="Gemm"/>: an MR×NR block of C (NR = two vectors) held in twelve
/// accumulators while a packed A sliver and a packed B sliver stream through, one fused multiply-add per
/// accumulator per k.
/// </summary>
internal static class GemmMicroKernel
{
    /// <summary>
    /// <c>C[0..MR, 0..NR] (+)= Σ_p a[p*MR + i] * b[p*NR + j]</c> over <paramref name="kc"/> steps, summed from
    /// zero in ascending p and then added to C when <paramref name="add"/> is set, so the rounding never depends
    /// on what C held.
    /// </summary>
    /// <remarks>AggressiveOptimization skips tier 0, where the ISimd calls are not inlined and a first large product would crawl.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Run<TSimd, TVec>(int kc, float* a, float* b, float* c, int ldc, bool add)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        const int mr = GemmPlan.MR;
        int w = TSimd.Count;
        if (Sse.IsSupported)
        {
            // C is touched only after the loop; fetching its rows now hides the miss behind the FMAs.
            for (int r = 0; r < mr; r++)
            {
                Sse.Prefetch0(c + r * ldc);
                Sse.Prefetch0(c + r * ldc + 2 * w - 1);
            }
        }
        TVec c00 = TSimd.Zero, c01 = TSimd.Zero;
        TVec c10 = TSimd.Zero, c11 = TSimd.Zero;
        TVec c20 = TSimd.Zero, c21 = TSimd.Zero;
        TVec c30 = TSimd.Zero, c31 = TSimd.Zero;
        TVec c40 = TSimd.Zero, c41 = TSimd.Zero;
        TVec c50 = TSimd.Zero, c51 = TSimd.Zero;

        // Unrolled by four to cut loop overhead; A streams from L2, so it is prefetched 16 steps ahead (the B
        // sliver is reused across calls and stays in L1).
        int p = 0;
        for (; p + 4 <= kc; p += 4)
        {
            if (Sse.IsSupported)
            {
                Sse.Prefetch0(a + 16 * mr);
                Sse.Prefetch0(a + 16 * mr + 16);
            }
            Step<TSimd, TVec>(a, b, w, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            Step<TSimd, TVec>(a + mr, b + 2 * w, w, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            Step<TSimd, TVec>(a + 2 * mr, b + 4 * w, w, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            Step<TSimd, TVec>(a + 3 * mr, b + 6 * w, w, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            a += 4 * mr;
            b += 8 * w;
        }
        for (; p < kc; p++)
        {
            Step<TSimd, TVec>(a, b, w, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            a += mr;
            b += 2 * w;
        }

        Store<TSimd, TVec>(c00, c01, c, w, add);
        Store<TSimd, TVec>(c10, c11, c + ldc, w, add);
        Store<TSimd, TVec>(c20, c21, c + 2 * ldc, w, add);
        Store<TSimd, TVec>(c30, c31, c + 3 * ldc, w, add);
        Store<TSimd, TVec>(c40, c41, c + 4 * ldc, w, add);
        Store<TSimd, TVec>(c50, c51, c + 5 * ldc, w, add);
    }

    /// <summary>One k step: two B vectors, six broadcast A values, twelve fused multiply-adds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Step<TSimd, TVec>(float* a, float* b, int w,
        ref TVec c00, ref TVec c01, ref TVec c10, ref TVec c11, ref TVec c20, ref TVec c21,
        ref TVec c30, ref TVec c31, ref TVec c40, ref TVec c41, ref TVec c50, ref TVec c51)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        TVec b0 = TSimd.Load(ref *b);
        TVec b1 = TSimd.Load(ref b[w]);
        TVec x = TSimd.Broadcast(a[0]);
        c00 = TSimd.MultiplyAdd(x, b0, c00);
        c01 = TSimd.MultiplyAdd(x, b1, c01);
        x = TSimd.Broadcast(a[1]);
        c10 = TSimd.MultiplyAdd(x, b0, c10);
        c11 = TSimd.MultiplyAdd(x, b1, c11);
        x = TSimd.Broadcast(a[2]);
        c20 = TSimd.MultiplyAdd(x, b0, c20);
        c21 = TSimd.MultiplyAdd(x, b1, c21);
        x = TSimd.Broadcast(a[3]);
        c30 = TSimd.MultiplyAdd(x, b0, c30);
        c31 = TSimd.MultiplyAdd(x, b1, c31);
        x = TSimd.Broadcast(a[4]);
        c40 = TSimd.MultiplyAdd(x, b0, c40);
        c41 = TSimd.MultiplyAdd(x, b1, c41);
        x = TSimd.Broadcast(a[5]);
        c50 = TSimd.MultiplyAdd(x, b0, c50);
        c51 = TSimd.MultiplyAdd(x, b1, c51);
    }

    /// <summary>Writes one row of the register tile, adding it to what C holds when <paramref name="add"/> is set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store<TSimd, TVec>(TVec left, TVec right, float* row, int w, bool add)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        if (add)
        {
            left = TSimd.Add(TSimd.Load(ref *row), left);
            right = TSimd.Add(TSimd.Load(ref row[w]), right);
        }
        TSimd.Store(left, ref *row);
        TSimd.Store(right, ref row[w]);
    }
}
