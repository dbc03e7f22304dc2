using System;
using System.Buffers;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// Max and average pooling over <c>[planes, H, W]</c> (planes = N·C), floor mode, with optional padding. Max pooling
/// of spikes ORs bits: the kernel rows of a window are ORed word by word and each output bit tests a run of k bits,
/// so spikes never become floats. The maximum's position follows PyTorch: the first maximal element in row-major
/// window order (for a window of zeros, its first element). Padding cells are never read: a window is clipped to
/// the plane, which for max pooling is PyTorch's −∞ padding (and for bits, whose padding reads as 0, the OR
/// identity) and for average pooling sums zeros while still dividing by k² (PyTorch's <c>count_include_pad</c>).
/// Callers keep padding at most k/2, so every window holds a real element. Work items are fixed blocks of planes;
/// each output or gradient element is written by one item.
/// </summary>
internal static class Pool
{
    private const int PlaneBlock = 16;

    /// <summary><c>y[plane, oy, ox] = max</c> of the window, for dense input.</summary>
    public static void MaxForward(Tensor x, int planes, ConvGeometry g, Tensor y)
    {
        var state = (x, planes, g, y);
        Parallelism.For(Parallelism.ChunkCount(planes, PlaneBlock), (long)PlaneBlock * g.Positions * g.KernelHeight * g.KernelWidth, state, static (block, s) =>
        {
            var g = s.g;
            ReadOnlySpan<float> xs = Raw(s.x);
            var ys = Raw(s.y);
            int end = Math.Min(s.planes, (block + 1) * PlaneBlock);
            for (int plane = block * PlaneBlock; plane < end; plane++)
            {
                var img = xs.Slice(plane * g.Height * g.Width, g.Height * g.Width);
                var outp = ys.Slice(plane * g.Positions, g.Positions);
                for (int oy = 0; oy < g.OutHeight; oy++)
                {
                    for (int ox = 0; ox < g.OutWidth; ox++) outp[oy * g.OutWidth + ox] = img[ArgMax(img, g, oy, ox)];
                }
            }
        });
    }

    /// <summary>Adds each output gradient to the position of its window's maximum in <paramref name="dx"/>, which this clears first.</summary>
    public static void MaxBackward(Tensor gradOutput, Tensor x, int planes, ConvGeometry g, Tensor dx)
    {
        var state = (gradOutput, x, planes, g, dx);
        Parallelism.For(Parallelism.ChunkCount(planes, PlaneBlock), (long)PlaneBlock * g.Positions * g.KernelHeight * g.KernelWidth, state, static (block, s) =>
        {
            var g = s.g;
            int size = g.Height * g.Width;
            ReadOnlySpan<float> xs = Raw(s.x), gs = Raw(s.gradOutput);
            var dxs = Raw(s.dx);
            int end = Math.Min(s.planes, (block + 1) * PlaneBlock);
            for (int plane = block * PlaneBlock; plane < end; plane++)
            {
                var img = xs.Slice(plane * size, size);
                var d = dxs.Slice(plane * size, size);
                d.Clear();
                var go = gs.Slice(plane * g.Positions, g.Positions);
                for (int oy = 0; oy < g.OutHeight; oy++)
                {
                    for (int ox = 0; ox < g.OutWidth; ox++) d[ArgMax(img, g, oy, ox)] += go[oy * g.OutWidth + ox];
                }
            }
        });
    }

    /// <summary>The flat index within the plane of the window's first maximal element (strict comparison keeps the first); a NaN wins, as in PyTorch.</summary>
    private static int ArgMax(ReadOnlySpan<float> plane, ConvGeometry g, int oy, int ox)
    {
        var (y0, y1, x0, x1) = Inside(g, oy, ox);
        int best = y0 * g.Width + x0;
        float max = plane[best];
        for (int y = y0; y < y1; y++)
        {
            var row = plane.Slice(y * g.Width + x0, x1 - x0);
            for (int j = 0; j < row.Length; j++)
            {
                if (row[j] > max || float.IsNaN(row[j]))
                {
                    max = row[j];
                    best = y * g.Width + x0 + j;
                }
            }
        }
        return best;
    }

    /// <summary>The rows <c>[Y0, Y1)</c> and columns <c>[X0, X1)</c> of the window at (oy, ox) that lie inside the plane.</summary>
    private static (int Y0, int Y1, int X0, int X1) Inside(ConvGeometry g, int oy, int ox)
    {
        int y = oy * g.Stride - g.Padding, x = ox * g.Stride - g.Padding;
        return (Math.Max(0, y), Math.Min(g.Height, y + g.KernelHeight), Math.Max(0, x), Math.Min(g.Width, x + g.KernelWidth));
    }

    /// <summary>Spike max pooling: an output bit is set when any bit of its window is, computed on words.</summary>
    public static void MaxForwardBits(SpikeTensor x, int planes, ConvGeometry g, SpikeTensor y)
    {
        if (IsPairs(g))
        {
            MaxForwardBitPairs(x, planes, g, y);
            return;
        }
        var state = (x, planes, g, y);
        Parallelism.For(Parallelism.ChunkCount(planes, PlaneBlock), (long)PlaneBlock * g.OutHeight * (g.KernelHeight * x.WordsPerRow + g.OutWidth), state, static (block, s) =>
        {
            var g = s.g;
            int wIn = s.x.WordsPerRow, wOut = s.y.WordsPerRow;
            var merged = ArrayPool<ulong>.Shared.Rent(Math.Max(1, wIn));
            try
            {
                ReadOnlySpan<ulong> src = s.x.Words;
                var dst = s.y.Words;
                var or = merged.AsSpan(0, wIn);
                int end = Math.Min(s.planes, (block + 1) * PlaneBlock);
                for (int plane = block * PlaneBlock; plane < end; plane++)
                {
                    for (int oy = 0; oy < g.OutHeight; oy++)
                    {
                        or.Clear();
                        var (y0, y1, _, _) = Inside(g, oy, 0);
                        for (int y = y0; y < y1; y++)
                        {
                            var row = src.Slice((plane * g.Height + y) * wIn, wIn);
                            for (int w = 0; w < wIn; w++) or[w] |= row[w];
                        }
                        var outRow = dst.Slice((plane * g.OutHeight + oy) * wOut, wOut);
                        outRow.Clear();
                        for (int ox = 0; ox < g.OutWidth; ox++)
                        {
                            // Columns outside the row read as zero: padding is the OR identity.
                            if (BitRange.FirstSet(or, ox * g.Stride - g.Padding, g.KernelWidth) >= 0) outRow[ox >> 6] |= 1UL << (ox & 63);
                        }
                    }
                }
            }
            finally
            {
                ArrayPool<ulong>.Shared.Return(merged);
            }
        });
    }

    /// <summary>The plain one-bit-at-a-time version of <see cref="MaxForwardBits"/>.</summary>
    public static void MaxForwardBitsReference(SpikeTensor x, int planes, ConvGeometry g, SpikeTensor y)
    {
        y.Words.Clear();
        var xr = x.Reshape(planes, g.Height, g.Width);
        var yr = y.Reshape(planes, g.OutHeight, g.OutWidth);
        for (int plane = 0; plane < planes; plane++)
        for (int oy = 0; oy < g.OutHeight; oy++)
        for (int ox = 0; ox < g.OutWidth; ox++)
        {
            bool any = false;
            for (int i = 0; i < g.KernelHeight; i++)
            for (int j = 0; j < g.KernelWidth; j++)
            {
                int yy = oy * g.Stride - g.Padding + i, xx = ox * g.Stride - g.Padding + j;
                if (yy >= 0 && yy < g.Height && xx >= 0 && xx < g.Width) any |= xr[plane, yy, xx];
            }
            yr[plane, oy, ox] = any;
        }
        xr.Dispose();
        yr.Dispose();
    }

    /// <summary>
    /// The max-pool gradient for spike input: each window's gradient goes to its first set bit in row-major
    /// order, or to its first element inside the plane when no bit is set, the position PyTorch's max pooling picks
    /// on 0/1 values.
    /// </summary>
    public static void MaxBackwardBits(Tensor gradOutput, SpikeTensor x, int planes, ConvGeometry g, Tensor dx)
    {
        if (IsPairs(g))
        {
            MaxBackwardBitPairs(gradOutput, x, planes, g, dx);
            return;
        }
        var state = (gradOutput, x, planes, g, dx);
        Parallelism.For(Parallelism.ChunkCount(planes, PlaneBlock), (long)PlaneBlock * g.Positions * g.KernelHeight, state, static (block, s) =>
        {
            var g = s.g;
            int size = g.Height * g.Width, wIn = s.x.WordsPerRow;
            ReadOnlySpan<ulong> src = s.x.Words;
            ReadOnlySpan<float> gs = Raw(s.gradOutput);
            var dxs = Raw(s.dx);
            int end = Math.Min(s.planes, (block + 1) * PlaneBlock);
            for (int plane = block * PlaneBlock; plane < end; plane++)
            {
                var d = dxs.Slice(plane * size, size);
                d.Clear();
                var go = gs.Slice(plane * g.Positions, g.Positions);
                for (int oy = 0; oy < g.OutHeight; oy++)
                {
                    for (int ox = 0; ox < g.OutWidth; ox++)
                    {
                        var (y0, y1, firstX, _) = Inside(g, oy, ox);
                        int x0 = ox * g.Stride - g.Padding, at = y0 * g.Width + firstX;
                        for (int y = y0; y < y1; y++)
                        {
                            // Bits left or right of the row read as zero, so a set bit found is always a real column.
                            int j = BitRange.FirstSet(src.Slice((plane * g.Height + y) * wIn, wIn), x0, g.KernelWidth);
                            if (j >= 0)
                            {
                                at = y * g.Width + x0 + j;
                                break;
                            }
                        }
                        d[at] += go[oy * g.OutWidth + ox];
                    }
                }
            }
        });
    }

    private const ulong EvenBits = 0x5555_5555_5555_5555UL;

    /// <summary>The 2×2 stride-2 window, where a window's columns are an even/odd bit pair that never straddles a word.</summary>
    private static bool IsPairs(ConvGeometry g) => g.KernelHeight == 2 && g.KernelWidth == 2 && g.Stride == 2 && g.Padding == 0;

    /// <summary>
    /// <see cref="MaxForwardBits"/> for 2×2 windows at stride 2: the two rows are ORed word by word, each bit pair
    /// ORed onto its even bit, and the even bits packed into half a word (PEXT where the CPU has it).
    /// </summary>
    private static void MaxForwardBitPairs(SpikeTensor x, int planes, ConvGeometry g, SpikeTensor y)
    {
        var state = (x, planes, g, y);
        Parallelism.For(Parallelism.ChunkCount(planes, PlaneBlock), (long)PlaneBlock * g.OutHeight * (2 * x.WordsPerRow + y.WordsPerRow), state, static (block, s) =>
        {
            var g = s.g;
            int wIn = s.x.WordsPerRow, wOut = s.y.WordsPerRow;
            int lastBits = g.OutWidth & 63;
            ulong lastMask = lastBits == 0 ? ulong.MaxValue : (1UL << lastBits) - 1;
            ReadOnlySpan<ulong> src = s.x.Words;
            var dst = s.y.Words;
            int end = Math.Min(s.planes, (block + 1) * PlaneBlock);
            for (int plane = block * PlaneBlock; plane < end; plane++)
            {
                for (int oy = 0; oy < g.OutHeight; oy++)
                {
                    var top = src.Slice((plane * g.Height + 2 * oy) * wIn, wIn);
                    var bottom = src.Slice((plane * g.Height + 2 * oy + 1) * wIn, wIn);
                    var outRow = dst.Slice((plane * g.OutHeight + oy) * wOut, wOut);
                    for (int q = 0; q < wOut; q++)
                    {
                        int w = 2 * q;
                        ulong lo = top[w] | bottom[w];
                        ulong packed = CompactEven(lo | (lo >> 1));
                        if (w + 1 < wIn)
                        {
                            ulong hi = top[w + 1] | bottom[w + 1];
                            packed |= CompactEven(hi | (hi >> 1)) << 32;
                        }
                        outRow[q] = packed;
                    }
                    // An odd width leaves a last column outside every window.
                    outRow[wOut - 1] &= lastMask;
                }
            }
        });
    }

    /// <summary>The even bits of <paramref name="word"/> packed into the low 32 bits.</summary>
    internal static ulong CompactEven(ulong word) => Bmi2.X64.IsSupported ? Bmi2.X64.ParallelBitExtract(word, EvenBits) : CompactEvenPortable(word);

    /// <summary>The shift-and-mask version of <see cref="CompactEven"/>, for CPUs without PEXT.</summary>
    internal static ulong CompactEvenPortable(ulong word)
    {
        word &= EvenBits;
        word = (word | (word >> 1)) & 0x3333_3333_3333_3333UL;
        word = (word | (word >> 2)) & 0x0F0F_0F0F_0F0F_0F0FUL;
        word = (word | (word >> 4)) & 0x00FF_00FF_00FF_00FFUL;
        word = (word | (word >> 8)) & 0x0000_FFFF_0000_FFFFUL;
        return (word | (word >> 16)) & 0x0000_0000_FFFF_FFFFUL;
    }

    /// <summary>
    /// <see cref="MaxBackwardBits"/> for 2×2 windows at stride 2. For a window with top pair (a₀, a₁) and bottom
    /// pair (b₀, b₁) the first set bit in row-major order, or a₀ for an empty window, is a₀ | ¬(a₀|a₁|b₀|b₁),
    /// ¬a₀·a₁, ¬(a₀|a₁)·b₀ or ¬(a₀|a₁|b₀)·b₁: four word masks say which input element takes each gradient.
    /// </summary>
    private static void MaxBackwardBitPairs(Tensor gradOutput, SpikeTensor x, int planes, ConvGeometry g, Tensor dx)
    {
        var state = (gradOutput, x, planes, g, dx);
        Parallelism.For(Parallelism.ChunkCount(planes, PlaneBlock), (long)PlaneBlock * g.Height * g.Width, state, static (block, s) =>
        {
            var g = s.g;
            int size = g.Height * g.Width, wIn = s.x.WordsPerRow, used = 2 * g.OutWidth;
            ReadOnlySpan<ulong> src = s.x.Words;
            ReadOnlySpan<float> gs = Raw(s.gradOutput);
            var dxs = Raw(s.dx);
            int end = Math.Min(s.planes, (block + 1) * PlaneBlock);
            for (int plane = block * PlaneBlock; plane < end; plane++)
            {
                var d = dxs.Slice(plane * size, size);
                // Rows past the last window (odd height) take no gradient.
                if (2 * g.OutHeight < g.Height) d[(2 * g.OutHeight * g.Width)..].Clear();
                for (int oy = 0; oy < g.OutHeight; oy++)
                {
                    var top = src.Slice((plane * g.Height + 2 * oy) * wIn, wIn);
                    var bottom = src.Slice((plane * g.Height + 2 * oy + 1) * wIn, wIn);
                    var go = gs.Slice((plane * g.OutHeight + oy) * g.OutWidth, g.OutWidth);
                    var dTop = d.Slice(2 * oy * g.Width, g.Width);
                    var dBottom = d.Slice((2 * oy + 1) * g.Width, g.Width);
                    for (int w = 0; w < wIn; w++)
                    {
                        ulong a = top[w], b = bottom[w];
                        ulong a0 = a & EvenBits, a1 = (a >> 1) & EvenBits, b0 = b & EvenBits, b1 = (b >> 1) & EvenBits;
                        ulong noA = ~(a0 | a1) & EvenBits;
                        ulong topMask = a0 | (noA & ~(b0 | b1)) | ((~a0 & a1) << 1);
                        ulong bottomMask = (noA & b0) | ((noA & ~b0 & b1) << 1);
                        int from = w * 64, to = Math.Min(used, from + 64), c = from;
                        if (Avx2.IsSupported)
                        {
                            for (; c + 8 <= to; c += 8)
                            {
                                SelectEight(go.Slice(c >> 1, 4), topMask >> (c - from), dTop.Slice(c, 8));
                                SelectEight(go.Slice(c >> 1, 4), bottomMask >> (c - from), dBottom.Slice(c, 8));
                            }
                        }
                        for (; c < to; c++)
                        {
                            float v = go[c >> 1];
                            int bit = c - from;
                            dTop[c] = ((topMask >> bit) & 1) != 0 ? v : 0f;
                            dBottom[c] = ((bottomMask >> bit) & 1) != 0 ? v : 0f;
                        }
                    }
                    // An odd width leaves a last column outside every window.
                    if (used < g.Width)
                    {
                        dTop[used] = 0f;
                        dBottom[used] = 0f;
                    }
                }
            }
        });
    }

    private static readonly Vector256<int> PairIndex = Vector256.Create(0, 0, 1, 1, 2, 2, 3, 3);
    private static readonly Vector256<int> LaneBits = Vector256.Create(1, 2, 4, 8, 16, 32, 64, 128);

    /// <summary><c>d[t] = bit t of mask ? g[t / 2] : 0</c> for eight columns, each gradient repeated over its pair.</summary>
    private static void SelectEight(ReadOnlySpan<float> g, ulong mask, Span<float> d)
    {
        var pairs = Avx2.PermuteVar8x32(Vector256.Create(Vector128.Create(g), Vector128<float>.Zero), PairIndex);
        var taken = Vector256.Equals(Vector256.Create((int)(mask & 0xFF)) & LaneBits, LaneBits).AsSingle();
        (taken & pairs).CopyTo(d);
    }

    /// <summary>The plain one-window-at-a-time version of <see cref="MaxBackwardBits"/>, reading one bit at a time.</summary>
    public static void MaxBackwardBitsReference(Tensor gradOutput, SpikeTensor x, int planes, ConvGeometry g, Tensor dx)
    {
        var xr = x.Reshape(planes, g.Height, g.Width);
        ReadOnlySpan<float> gs = Raw(gradOutput);
        var d = Raw(dx);
        d.Clear();
        for (int plane = 0; plane < planes; plane++)
        for (int oy = 0; oy < g.OutHeight; oy++)
        for (int ox = 0; ox < g.OutWidth; ox++)
        {
            int top = Math.Max(0, oy * g.Stride - g.Padding), left = Math.Max(0, ox * g.Stride - g.Padding);
            int best = (plane * g.Height + top) * g.Width + left;
            bool found = false;
            for (int i = 0; i < g.KernelHeight && !found; i++)
            for (int j = 0; j < g.KernelWidth && !found; j++)
            {
                int y = oy * g.Stride - g.Padding + i, xx = ox * g.Stride - g.Padding + j;
                if (y >= 0 && y < g.Height && xx >= 0 && xx < g.Width && xr[plane, y, xx])
                {
                    best = (plane * g.Height + y) * g.Width + xx;
                    found = true;
                }
            }
            d[best] += gs[(plane * g.OutHeight + oy) * g.OutWidth + ox];
        }
        xr.Dispose();
    }

    /// <summary><c>y = sum / k²</c> of each window, for dense input; padding cells count in k² as zeros.</summary>
    public static void AvgForward(Tensor x, int planes, ConvGeometry g, Tensor y)
    {
        var state = (x, planes, g, y);
        Parallelism.For(Parallelism.ChunkCount(planes, PlaneBlock), (long)PlaneBlock * g.Positions * g.KernelHeight * g.KernelWidth, state, static (block, s) =>
        {
            var g = s.g;
            int size = g.Height * g.Width;
            float scale = 1f / (g.KernelHeight * g.KernelWidth);
            ReadOnlySpan<float> xs = Raw(s.x);
            var ys = Raw(s.y);
            int end = Math.Min(s.planes, (block + 1) * PlaneBlock);
            for (int plane = block * PlaneBlock; plane < end; plane++)
            {
                var img = xs.Slice(plane * size, size);
                var outp = ys.Slice(plane * g.Positions, g.Positions);
                for (int oy = 0; oy < g.OutHeight; oy++)
                {
                    for (int ox = 0; ox < g.OutWidth; ox++)
                    {
                        float sum = 0f;
                        var (y0, y1, x0, x1) = Inside(g, oy, ox);
                        for (int y = y0; y < y1; y++)
                        {
                            var row = img.Slice(y * g.Width + x0, x1 - x0);
                            for (int j = 0; j < row.Length; j++) sum += row[j];
                        }
                        outp[oy * g.OutWidth + ox] = sum * scale;
                    }
                }
            }
        });
    }

    /// <summary>Average pooling of spikes: the count of set bits in each window over k² (padding included), counted on words.</summary>
    public static void AvgForwardBits(SpikeTensor x, int planes, ConvGeometry g, Tensor y)
    {
        var state = (x, planes, g, y);
        Parallelism.For(Parallelism.ChunkCount(planes, PlaneBlock), (long)PlaneBlock * g.Positions * g.KernelHeight, state, static (block, s) =>
        {
            var g = s.g;
            int wIn = s.x.WordsPerRow;
            float scale = 1f / (g.KernelHeight * g.KernelWidth);
            ReadOnlySpan<ulong> src = s.x.Words;
            var ys = Raw(s.y);
            int end = Math.Min(s.planes, (block + 1) * PlaneBlock);
            for (int plane = block * PlaneBlock; plane < end; plane++)
            {
                var outp = ys.Slice(plane * g.Positions, g.Positions);
                for (int oy = 0; oy < g.OutHeight; oy++)
                {
                    for (int ox = 0; ox < g.OutWidth; ox++)
                    {
                        int count = 0;
                        var (y0, y1, _, _) = Inside(g, oy, ox);
                        for (int y = y0; y < y1; y++)
                        {
                            var row = src.Slice((plane * g.Height + y) * wIn, wIn);
                            for (int done = 0; done < g.KernelWidth; done += 64)
                            {
                                count += System.Numerics.BitOperations.PopCount(BitRange.Extract(row, ox * g.Stride - g.Padding + done, Math.Min(64, g.KernelWidth - done)));
                            }
                        }
                        outp[oy * g.OutWidth + ox] = count * scale;
                    }
                }
            }
        });
    }

    /// <summary>Spreads each output gradient over its window as <c>g / k²</c> into <paramref name="dx"/>, which this clears first; padding cells take their share and drop it.</summary>
    public static void AvgBackward(Tensor gradOutput, int planes, ConvGeometry g, Tensor dx)
    {
        var state = (gradOutput, planes, g, dx);
        Parallelism.For(Parallelism.ChunkCount(planes, PlaneBlock), (long)PlaneBlock * g.Positions * g.KernelHeight * g.KernelWidth, state, static (block, s) =>
        {
            var g = s.g;
            int size = g.Height * g.Width;
            float scale = 1f / (g.KernelHeight * g.KernelWidth);
            ReadOnlySpan<float> gs = Raw(s.gradOutput);
            var dxs = Raw(s.dx);
            int end = Math.Min(s.planes, (block + 1) * PlaneBlock);
            for (int plane = block * PlaneBlock; plane < end; plane++)
            {
                var d = dxs.Slice(plane * size, size);
                d.Clear();
                var go = gs.Slice(plane * g.Positions, g.Positions);
                for (int oy = 0; oy < g.OutHeight; oy++)
                {
                    for (int ox = 0; ox < g.OutWidth; ox++)
                    {
                        float v = go[oy * g.OutWidth + ox] * scale;
                        var (y0, y1, x0, x1) = Inside(g, oy, ox);
                        for (int y = y0; y < y1; y++)
                        {
                            var row = d.Slice(y * g.Width + x0, x1 - x0);
                            for (int j = 0; j < row.Length; j++) row[j] += v;
                        }
                    }
                }
            }
        });
    }

    private static Span<float> Raw(Tensor t) => t.StorageArray.AsSpan(t.StorageOffset, t.Length);
}
