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
/// nibble lookup, two to three times scalar POPCNT on rows of 13 words or more on Zen 3; .NET 10 exposes no
/// AVX-512 VPOPCNTDQ, so there is no wider path.
/// </remarks>
public static class SpikePopcount
{
    /// <summary>Rows of A per work item: the partition depends only on the shapes, never on the thread count.</summary>
    private const int RowBlock = 16;

    /// <summary>The bytes of B rows a work item sweeps, sized to stay in a 32 KiB L1 cache beside the A rows.</summary>
    private const int PanelBytes = 16 * 1024;

    /// <summary>A-row words split into nibbles at a time: 16 KiB of stack for the pair.</summary>
    private const int SegmentWords = 512;

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
            SingleWord(a, b, c, n, i0, i1, j0, j1);
            return;
        }
        int i = i0;
        bool vector = Avx2.IsSupported && wpr >= 4;
        for (; i + 1 < i1; i += 2)
        {
            ulong* ai = a + (nint)i * wpr;
            int* ci = c + (nint)i * n;
            int pairsEnd = j0 + ((j1 - j0) & ~1);
            if (vector)
            {
                RowPairAvx2(ai, b, wpr, ci, n, j0, pairsEnd);
            }
            else
            {
                for (int j = j0; j < pairsEnd; j += 2) Tile2x2(ai, b + (nint)j * wpr, wpr, ci + j, n);
            }
            if (pairsEnd < j1)
            {
                ci[pairsEnd] = Dot(ai, b + (nint)pairsEnd * wpr, wpr);
                ci[n + pairsEnd] = Dot(ai + wpr, b + (nint)pairsEnd * wpr, wpr);
            }
        }
        if (i < i1)
        {
            for (int j = j0; j < j1; j++) c[(nint)i * n + j] = Dot(a + (nint)i * wpr, b + (nint)j * wpr, wpr);
        }
    }

    /// <summary>
    /// Rows of one word (attention heads of up to 64 channels), where a tile's setup would cost more than its
    /// products. With AVX2 one A word meets four B words a step, counted by nibble lookup and <c>vpsadbw</c>.
    /// </summary>
    private static unsafe void SingleWord(ulong* a, ulong* b, int* c, int n, int i0, int i1, int j0, int j1)
    {
        var lut = Vector256.Create((byte)0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
        var nibble = Vector256.Create((byte)0x0F);
        var evenLanes = Vector256.Create(0, 2, 4, 6, 0, 2, 4, 6);
        for (int r = i0; r < i1; r++)
        {
            ulong x = a[r];
            int* cr = c + (nint)r * n;
            int j = j0;
            if (Avx2.IsSupported)
            {
                var xv = Vector256.Create(x).AsByte();
                var low = xv & nibble;
                var high = Vector256.ShiftRightLogical(xv.AsUInt16(), 4).AsByte() & nibble;
                for (; j + 4 <= j1; j += 4)
                {
                    var y = Vector256.Load(b + j).AsByte();
                    var bytes = Avx2.Shuffle(lut, low & y) + Avx2.Shuffle(lut, high & Vector256.ShiftRightLogical(y.AsUInt16(), 4).AsByte());
                    var counts = Avx2.SumAbsoluteDifferences(bytes, Vector256<byte>.Zero).AsInt32();
                    Avx2.PermuteVar8x32(counts, evenLanes).GetLower().Store(cr + j);
                }
            }
            for (; j < j1; j++) cr[j] = BitOperations.PopCount(x & b[j]);
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
    /// A-row pair <c>a, a + wpr</c> against B-row pairs <c>[j0, j1)</c> into rows <c>c</c> and <c>c + n</c>, with Muła's
    /// nibble lookup: per byte, <c>popcount(x &amp; y) = lut[x_lo &amp; y] + lut[x_hi &amp; (y &gt;&gt; 4)]</c>. The A rows'
    /// nibbles are split once into a stack buffer and reused by every B pair, in segments of
    /// <see cref="SegmentWords"/> words whose partial counts add up. A last partial step loads under a mask, so
    /// no word is left to scalar code and nothing past a row's end is read.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    [SkipLocalsInit]
    private static unsafe void RowPairAvx2(ulong* a, ulong* b, int wpr, int* c, int n, int j0, int j1)
    {
        // Every vector read is written first, so the buffer need not be cleared.
        var split = stackalloc Vector256<byte>[Math.Min(SegmentWords, (wpr + 3) & ~3)];
        for (int segment = 0; segment < wpr; segment += SegmentWords)
        {
            int words = Math.Min(SegmentWords, wpr - segment);
            SplitNibbles(a + segment, a + wpr + segment, words, split);
            for (int j = j0; j < j1; j += 2)
            {
                ulong* b0 = b + (nint)j * wpr + segment;
                var sums = TileAvx2(split, b0, b0 + wpr, words);
                if (segment == 0)
                {
                    Unsafe.WriteUnaligned(c + j, sums.GetLower());
                    Unsafe.WriteUnaligned(c + n + j, sums.GetUpper());
                }
                else
                {
                    Unsafe.WriteUnaligned(c + j, Unsafe.ReadUnaligned<Vector64<int>>(c + j) + sums.GetLower());
                    Unsafe.WriteUnaligned(c + n + j, Unsafe.ReadUnaligned<Vector64<int>>(c + n + j) + sums.GetUpper());
                }
            }
        }
    }

    /// <summary>Writes, per 4-word step, the low and high nibbles of both A rows: four vectors a step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void SplitNibbles(ulong* a0, ulong* a1, int words, Vector256<byte>* split)
    {
        var nibble = Vector256.Create((byte)0x0F);
        for (int w = 0; w < words; w += 4)
        {
            var mask = StepMask(words - w);
            var x0 = Avx2.MaskLoad(a0 + w, mask).AsByte();
            var x1 = Avx2.MaskLoad(a1 + w, mask).AsByte();
            split[w] = x0 & nibble;
            split[w + 1] = Vector256.ShiftRightLogical(x0.AsUInt16(), 4).AsByte() & nibble;
            split[w + 2] = x1 & nibble;
            split[w + 3] = Vector256.ShiftRightLogical(x1.AsUInt16(), 4).AsByte() & nibble;
        }
    }

    /// <summary>
    /// The 2×2 counts <c>(s00, s01, s10, s11)</c> of the split A pair against B rows <paramref name="b0"/> and
    /// <paramref name="b1"/>. Byte sums grow by at most 8 a step, so they are widened with <c>vpsadbw</c> every 31
    /// steps, before they can overflow.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector128<int> TileAvx2(Vector256<byte>* split, ulong* b0, ulong* b1, int words)
    {
        var lut = Vector256.Create((byte)0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
        Vector256<ulong> s00 = default, s01 = default, s10 = default, s11 = default;
        int full = words & ~3;
        int w = 0;
        while (w < words)
        {
            int start = w;
            int stop = Math.Min(full, start + 31 * 4);
            Vector256<byte> t00 = default, t01 = default, t10 = default, t11 = default;
            for (; w < stop; w += 4)
            {
                Step(split + w, Vector256.Load(b0 + w).AsByte(), Vector256.Load(b1 + w).AsByte(), lut, ref t00, ref t01, ref t10, ref t11);
            }
            if (w == full && full < words && w - start < 31 * 4)
            {
                var mask = StepMask(words - full);
                Step(split + w, Avx2.MaskLoad(b0 + w, mask).AsByte(), Avx2.MaskLoad(b1 + w, mask).AsByte(), lut, ref t00, ref t01, ref t10, ref t11);
                w = words;
            }
            s00 += Avx2.SumAbsoluteDifferences(t00, Vector256<byte>.Zero).AsUInt64();
            s01 += Avx2.SumAbsoluteDifferences(t01, Vector256<byte>.Zero).AsUInt64();
            s10 += Avx2.SumAbsoluteDifferences(t10, Vector256<byte>.Zero).AsUInt64();
            s11 += Avx2.SumAbsoluteDifferences(t11, Vector256<byte>.Zero).AsUInt64();
        }
        // Each sum fits in 32 bits, so pairs share a 64-bit lane: (s00, s01) and (s10, s11), then fold the lanes.
        var top = s00 | Vector256.ShiftLeft(s01, 32);
        var bottom = s10 | Vector256.ShiftLeft(s11, 32);
        var folded = Avx2.UnpackLow(top, bottom) + Avx2.UnpackHigh(top, bottom);
        return (folded.GetLower() + folded.GetUpper()).AsInt32();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Step(
        Vector256<byte>* x, Vector256<byte> y0, Vector256<byte> y1, Vector256<byte> lut,
        ref Vector256<byte> t00, ref Vector256<byte> t01, ref Vector256<byte> t10, ref Vector256<byte> t11)
    {
        // The shift pulls in bits of the next byte; the AND with a masked high nibble clears them.
        var y0High = Vector256.ShiftRightLogical(y0.AsUInt16(), 4).AsByte();
        var y1High = Vector256.ShiftRightLogical(y1.AsUInt16(), 4).AsByte();
        t00 += Avx2.Shuffle(lut, x[0] & y0) + Avx2.Shuffle(lut, x[1] & y0High);
        t01 += Avx2.Shuffle(lut, x[0] & y1) + Avx2.Shuffle(lut, x[1] & y1High);
        t10 += Avx2.Shuffle(lut, x[2] & y0) + Avx2.Shuffle(lut, x[3] & y0High);
        t11 += Avx2.Shuffle(lut, x[2] & y1) + Avx2.Shuffle(lut, x[3] & y1High);
    }

    /// <summary>All-ones in the first <c>min(remaining, 4)</c> 64-bit lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> StepMask(int remaining) =>
        Vector256.LessThan(Vector256.Create(0UL, 1UL, 2UL, 3UL), Vector256.Create((ulong)remaining));

    private static unsafe int Dot(ulong* a, ulong* b, int wpr)
    {
        int s = 0;
        for (int w = 0; w < wpr; w++) s += BitOperations.PopCount(a[w] & b[w]);
        return s;
    }
}
