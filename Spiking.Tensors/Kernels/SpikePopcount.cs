using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// The product of two bit-packed spike matrices by AND and population count: <c>C = A · Bᵀ</c> over {0, 1},
/// counted exactly in integers. This is the binary <c>Q·Kᵀ</c> of spiking self-attention, where each score is
/// the number of positions at which both a query and a key spiked.
/// </summary>
/// <remarks>
/// Work items are fixed blocks of A rows by L1-sized panels of B rows, computed in 2×2 register tiles; counts
/// are exact integers, so any thread count gives the same result. With AVX2 the tiles count with Muła's
/// nibble lookup (about twice scalar POPCNT on rows of 13 or more words); .NET 10 exposes no AVX-512
/// VPOPCNTDQ, so there is no wider path.
/// </remarks>
public static class SpikePopcount
{
    /// <summary>Rows of A per work item: the partition depends only on the shapes, never on the thread count.</summary>
    private const int RowBlock = 16;

    /// <summary>The bytes of B rows a work item sweeps, sized to stay in a 32 KiB L1 cache beside the A rows.</summary>
    private const int PanelBytes = 16 * 1024;

    /// <summary>
    /// <c>c[i*n + j] = Σ_w popcount(a[i*wordsPerRow + w] &amp; b[j*wordsPerRow + w])</c>: the number of spikes row i of
    /// A and row j of B share. Both operands are row-major with <paramref name="wordsPerRow"/> words per row, as
    /// in <see cref="SpikeTensor.Words"/>; padding bits must be zero (they are in a spike tensor).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative.</exception>
    /// <exception cref="ArgumentException">A span's length does not match the counts.</exception>
    public static void AndPopcount(ReadOnlySpan<ulong> a, int m, ReadOnlySpan<ulong> b, int n, int wordsPerRow, Span<int> c)
    {
        Validate(a, m, b, n, wordsPerRow, c);
        if (m == 0 || n == 0) return;
        if (wordsPerRow == 0)
        {
            c.Clear();
            return;
        }
        int panel = PanelRows(n, wordsPerRow);
        int rowBlocks = (m + RowBlock - 1) / RowBlock;
        int panels = (n + panel - 1) / panel;
        unsafe
        {
            fixed (ulong* pa = a)
            fixed (ulong* pb = b)
            fixed (int* pc = c)
            {
                var job = new Job(pa, m, pb, n, wordsPerRow, pc, panel, panels);
                Parallelism.For(rowBlocks * panels, 3L * RowBlock * panel * wordsPerRow, job, static (item, j) => j.Run(item));
            }
        }
    }

    /// <summary>
    /// The counts for two rank-2 spike tensors with the same row length: <c>[m, d]</c> and <c>[n, d]</c> give
    /// <paramref name="c"/> of <c>m * n</c> counts, row-major.
    /// </summary>
    /// <exception cref="ArgumentException">A tensor is not rank 2, the row lengths differ, or <paramref name="c"/> has the wrong length.</exception>
    public static void AndPopcount(SpikeTensor a, SpikeTensor b, Span<int> c)
    {
        CheckOperands(a, b);
        AndPopcount(a.Words, a.RowCount, b.Words, b.RowCount, a.WordsPerRow, c);
    }

    /// <summary>The <c>[m, n]</c> counts of two rank-2 spike tensors <c>[m, d]</c> and <c>[n, d]</c>, in a new array.</summary>
    /// <exception cref="ArgumentException">A tensor is not rank 2 or the row lengths differ.</exception>
    public static int[] AndPopcount(SpikeTensor a, SpikeTensor b)
    {
        CheckOperands(a, b);
        var c = new int[a.RowCount * b.RowCount];
        AndPopcount(a.Words, a.RowCount, b.Words, b.RowCount, a.WordsPerRow, c);
        return c;
    }

    /// <summary>The plain triple loop the blocked kernel is tested against.</summary>
    internal static void AndPopcountReference(ReadOnlySpan<ulong> a, int m, ReadOnlySpan<ulong> b, int n, int wordsPerRow, Span<int> c)
    {
        Validate(a, m, b, n, wordsPerRow, c);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                int count = 0;
                for (int w = 0; w < wordsPerRow; w++) count += BitOperations.PopCount(a[i * wordsPerRow + w] & b[j * wordsPerRow + w]);
                c[i * n + j] = count;
            }
        }
    }

    private static void CheckOperands(SpikeTensor a, SpikeTensor b)
    {
        TensorChecks.Live(a, nameof(a));
        TensorChecks.Live(b, nameof(b));
        if (a.Shape.Rank != 2 || b.Shape.Rank != 2 || a.RowLength != b.RowLength)
        {
            throw new ArgumentException(
                $"AND-popcount needs rank-2 spike tensors [m, d] and [n, d] with the same d; got {a.Shape} and {b.Shape}.", nameof(b));
        }
    }

    private static void Validate(ReadOnlySpan<ulong> a, int m, ReadOnlySpan<ulong> b, int n, int wordsPerRow, Span<int> c)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(wordsPerRow);
        if ((long)m * wordsPerRow != a.Length)
        {
            throw new ArgumentException($"A holds {a.Length} words; {m} rows of {wordsPerRow} words need {(long)m * wordsPerRow}.", nameof(a));
        }
        if ((long)n * wordsPerRow != b.Length)
        {
            throw new ArgumentException($"B holds {b.Length} words; {n} rows of {wordsPerRow} words need {(long)n * wordsPerRow}.", nameof(b));
        }
        if ((long)m * n != c.Length)
        {
            throw new ArgumentException($"C holds {c.Length} counts; {m} x {n} needs {(long)m * n}.", nameof(c));
        }
    }

    /// <summary>Rows of B per panel: an even count whose words fit in <see cref="PanelBytes"/>.</summary>
    private static int PanelRows(int n, int wordsPerRow) => Math.Min(n, Math.Max(2, PanelBytes / (8 * wordsPerRow) & ~1));

    private readonly unsafe struct Job(ulong* a, int m, ulong* b, int n, int wordsPerRow, int* c, int panel, int panels)
    {
        public void Run(int item)
        {
            int i0 = item / panels * RowBlock;
            int i1 = Math.Min(m, i0 + RowBlock);
            int j0 = item % panels * panel;
            int j1 = Math.Min(n, j0 + panel);
            Block(a, b, c, n, wordsPerRow, i0, i1, j0, j1);
        }
    }

    /// <summary>Outputs <c>[i0, i1) × [j0, j1)</c> in 2×2 register tiles, so each loaded word feeds two products.</summary>
    private static unsafe void Block(ulong* a, ulong* b, int* c, int n, int wpr, int i0, int i1, int j0, int j1)
    {
        if (wpr == 1)
        {
            // One word per row (attention heads of up to 64 channels): a tile's call and setup would cost more than its products.
            for (int r = i0; r < i1; r++)
            {
                ulong x = a[r];
                int* cr = c + (nint)r * n;
                for (int j = j0; j < j1; j++) cr[j] = BitOperations.PopCount(x & b[j]);
            }
            return;
        }
        int i = i0;
        for (; i + 1 < i1; i += 2)
        {
            ulong* ai = a + (nint)i * wpr;
            int* ci = c + (nint)i * n;
            int j = j0;
            for (; j + 1 < j1; j += 2) Tile2x2(ai, b + (nint)j * wpr, wpr, ci + j, n);
            if (j < j1)
            {
                ci[j] = Dot(ai, b + (nint)j * wpr, wpr);
                ci[n + j] = Dot(ai + wpr, b + (nint)j * wpr, wpr);
            }
        }
        if (i < i1)
        {
            for (int j = j0; j < j1; j++) c[(nint)i * n + j] = Dot(a + (nint)i * wpr, b + (nint)j * wpr, wpr);
        }
    }

    /// <summary>
    /// Rows <c>a, a + wpr</c> against rows <c>b, b + wpr</c> into <c>c[0], c[1], c[n], c[n + 1]</c>. Kept out of line
    /// so its four row pointers and four sums stay in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static unsafe void Tile2x2(ulong* a, ulong* b, int wpr, int* c, int n)
    {
        ulong* a1 = a + wpr;
        ulong* b1 = b + wpr;
        if (Avx2.IsSupported && wpr >= 4)
        {
            var sums = Tile2x2Avx2(a, a1, b, b1, wpr);
            c[0] = sums.GetElement(0);
            c[1] = sums.GetElement(1);
            c[n] = sums.GetElement(2);
            c[n + 1] = sums.GetElement(3);
            return;
        }
        int s00 = 0, s01 = 0, s10 = 0, s11 = 0;
        for (int w = 0; w < wpr; w++)
        {
            ulong x0 = a[w], x1 = a1[w], y0 = b[w], y1 = b1[w];
            s00 += BitOperations.PopCount(x0 & y0);
            s01 += BitOperations.PopCount(x0 & y1);
            s10 += BitOperations.PopCount(x1 & y0);
            s11 += BitOperations.PopCount(x1 & y1);
        }
        c[0] = s00;
        c[1] = s01;
        c[n] = s10;
        c[n + 1] = s11;
    }

    /// <summary>
    /// The 2×2 tile with Muła's nibble lookup: <c>popcount(x &amp; y)</c> per byte is
    /// <c>lut[x_lo &amp; y] + lut[x_hi &amp; y &gt;&gt; 4]</c>, the A rows' nibbles split once and shared by both B rows.
    /// Byte sums grow by at most 8 a step, so they are widened with <c>vpsadbw</c> every 31 steps, before they
    /// can overflow; the last partial step loads with a mask, so no word is left to scalar code.
    /// Returns <c>(s00, s01, s10, s11)</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector128<int> Tile2x2Avx2(ulong* a0, ulong* a1, ulong* b0, ulong* b1, int words)
    {
        Vector256<ulong> s00 = default, s01 = default, s10 = default, s11 = default;
        int full = words & ~3;
        for (int w = 0; w < full;)
        {
            int stop = Math.Min(full, w + 31 * 4);
            Vector256<byte> t00 = default, t01 = default, t10 = default, t11 = default;
            for (; w < stop; w += 4)
            {
                Step(Vector256.Load(a0 + w), Vector256.Load(a1 + w), Vector256.Load(b0 + w), Vector256.Load(b1 + w), ref t00, ref t01, ref t10, ref t11);
            }
            Widen(t00, t01, t10, t11, ref s00, ref s01, ref s10, ref s11);
        }
        if (full < words)
        {
            var mask = Vector256.LessThan(Vector256.Create(0UL, 1UL, 2UL, 3UL), Vector256.Create((ulong)(words - full)));
            Vector256<byte> t00 = default, t01 = default, t10 = default, t11 = default;
            Step(Avx2.MaskLoad(a0 + full, mask), Avx2.MaskLoad(a1 + full, mask), Avx2.MaskLoad(b0 + full, mask), Avx2.MaskLoad(b1 + full, mask),
                ref t00, ref t01, ref t10, ref t11);
            Widen(t00, t01, t10, t11, ref s00, ref s01, ref s10, ref s11);
        }
        // Each sum fits in 32 bits, so pairs share a 64-bit lane: (s00, s01) and (s10, s11), then fold the lanes.
        var top = s00 | Vector256.ShiftLeft(s01, 32);
        var bottom = s10 | Vector256.ShiftLeft(s11, 32);
        var folded = Avx2.UnpackLow(top, bottom) + Avx2.UnpackHigh(top, bottom);
        return (folded.GetLower() + folded.GetUpper()).AsInt32();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(
        Vector256<ulong> a0, Vector256<ulong> a1, Vector256<ulong> b0, Vector256<ulong> b1,
        ref Vector256<byte> t00, ref Vector256<byte> t01, ref Vector256<byte> t10, ref Vector256<byte> t11)
    {
        var lut = Vector256.Create((byte)0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
        var nibble = Vector256.Create((byte)0x0F);
        var x0 = a0.AsByte();
        var x1 = a1.AsByte();
        var y0 = b0.AsByte();
        var y1 = b1.AsByte();
        var x0Low = x0 & nibble;
        var x0High = Vector256.ShiftRightLogical(x0.AsUInt16(), 4).AsByte() & nibble;
        var x1Low = x1 & nibble;
        var x1High = Vector256.ShiftRightLogical(x1.AsUInt16(), 4).AsByte() & nibble;
        // Bits shifted in from the next byte are cleared by the AND with a masked high nibble.
        var y0High = Vector256.ShiftRightLogical(y0.AsUInt16(), 4).AsByte();
        var y1High = Vector256.ShiftRightLogical(y1.AsUInt16(), 4).AsByte();
        t00 += Avx2.Shuffle(lut, x0Low & y0) + Avx2.Shuffle(lut, x0High & y0High);
        t01 += Avx2.Shuffle(lut, x0Low & y1) + Avx2.Shuffle(lut, x0High & y1High);
        t10 += Avx2.Shuffle(lut, x1Low & y0) + Avx2.Shuffle(lut, x1High & y0High);
        t11 += Avx2.Shuffle(lut, x1Low & y1) + Avx2.Shuffle(lut, x1High & y1High);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Widen(
        Vector256<byte> t00, Vector256<byte> t01, Vector256<byte> t10, Vector256<byte> t11,
        ref Vector256<ulong> s00, ref Vector256<ulong> s01, ref Vector256<ulong> s10, ref Vector256<ulong> s11)
    {
        s00 += Avx2.SumAbsoluteDifferences(t00, Vector256<byte>.Zero).AsUInt64();
        s01 += Avx2.SumAbsoluteDifferences(t01, Vector256<byte>.Zero).AsUInt64();
        s10 += Avx2.SumAbsoluteDifferences(t10, Vector256<byte>.Zero).AsUInt64();
        s11 += Avx2.SumAbsoluteDifferences(t11, Vector256<byte>.Zero).AsUInt64();
    }

    private static unsafe int Dot(ulong* a, ulong* b, int wpr)
    {
        int s = 0;
        for (int w = 0; w < wpr; w++) s += BitOperations.PopCount(a[w] & b[w]);
        return s;
    }
}
