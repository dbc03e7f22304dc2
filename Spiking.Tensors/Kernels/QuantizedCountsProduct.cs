using System;
using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// <c>acc[M, N] = Σ_k x[M, K]·q[N, K]</c> in int32 for unsigned 8-bit counts x and int8 (or int4) codes q, then the
/// epilogue of <see cref="QuantizedEpilogue"/>. The codes are packed once (<see cref="QuantizedCountsPanels"/>) into
/// column panels; two tile kernels read them:
/// <list type="bullet">
/// <item><b>Dot product</b> (x86 AVX-VNNI, <c>vpdpbusd</c>): a lane multiplies four u8 counts by four s8 codes and
/// adds the four products to its int32 sum in one instruction. The panel holds 16 columns as groups of four k
/// (<c>[K/4][16][4]</c>); the tile is 6 rows × 16 columns, twelve 256-bit accumulators, each row's four counts
/// broadcast as one int32. .NET 10 exposes VNNI only at 256 bits (<c>AvxVnni</c>; no <c>Avx512Vnni</c> class, and
/// <c>Avx10v1</c>, which would carry the 512-bit form, is not reported by AMD Zen 5).</item>
/// <item><b>Portable</b> (any width the hardware accelerates, NEON included): codes stored as int16 <c>[K][2·lanes]</c>,
/// a count broadcast as int16 and multiplied into int16 accumulators, which are widened into int32 every
/// <c>⌊32767 / (max count · max |code|)⌋</c> steps so they never wrap (63 steps for counts ≤ 4 and 8-bit codes).</item>
/// </list>
/// 4-bit codes stay packed two to a byte in the panels and are expanded, one chunk of K at a time, into a 16 KiB
/// tile on the stack that stays in L1 while every row of the block reads it.
/// Work items are (row block of 96, column panel) tiles, a partition by shape alone; the sums are exact integers, so
/// any order and thread count gives the same bits.
/// </summary>
internal static class QuantizedCountsProduct
{
    /// <summary>Rows per work item: a multiple of the six rows of a tile, enough to amortise expanding 4-bit codes.</summary>
    public const int RowBlock = 96;

    /// <summary>Rows a tile kernel computes at once.</summary>
    public const int TileRows = 6;

    /// <summary>Bytes of the expanded weight tile of one chunk, sized to stay in a 32 KiB L1 beside the counts.</summary>
    public const int TileBytes = 16384;

    /// <summary>Everything an item needs; pointers stay valid while <see cref="Run"/> blocks on the parallel loop.</summary>
    internal unsafe struct Job
    {
        public byte* X;
        public long XStride;
        public int Rows;
        public int InnerLength;
        public int Width;
        public byte* Panels;
        public long PanelBytes;
        public int PanelWidth;
        public bool Int4;
        public int ChunkK;
        public int Limit;
        public QuantizedOutput Out;
        public int RowBlocks;
    }

    /// <summary>The largest count of <paramref name="counts"/>, which bounds the int16 runs of the portable and pair-sum tiles.</summary>
    public static int MaxCount(ReadOnlySpan<byte> counts) => counts.IsEmpty ? 0 : TensorPrimitives.Max(counts);

    /// <summary>
    /// Computes the product of <paramref name="counts"/> <c>[rows, K]</c>, rows <paramref name="countsStride"/> bytes apart
    /// (no count above <paramref name="maxCount"/>), with <paramref name="panels"/> into
    /// <paramref name="sums"/> <c>[rows, N]</c> when it is not empty, else through the epilogue into
    /// <paramref name="output"/>: row-major <c>[rows, N]</c>, or channel-major <c>[rows / positions, N, positions]</c>
    /// when <paramref name="positions"/> is positive.
    /// </summary>
    public static unsafe void Run(ReadOnlySpan<byte> counts, int countsStride, int rows, int maxCount, QuantizedCountsPanels panels,
        ReadOnlySpan<float> scales, ReadOnlySpan<float> bias, Span<float> output, Span<int> sums, int positions)
    {
        if (rows == 0 || panels.OutFeatures == 0) return;
        int k = panels.InFeatures, stride = panels.RowStride;
        byte[]? padded = null;
        try
        {
            var x = counts;
            if (stride != countsStride && k > 0)
            {
                // The four-at-a-time tiles read rows of a multiple of four: rows are copied to that stride, zero-filled.
                padded = ArrayPool<byte>.Shared.Rent(rows * stride);
                for (int r = 0; r < rows; r++)
                {
                    counts.Slice(r * countsStride, k).CopyTo(padded.AsSpan(r * stride));
                    padded.AsSpan(r * stride + k, stride - k).Clear();
                }
                x = padded.AsSpan(0, rows * stride);
            }
            long largest = Math.Max(1L, (long)maxCount * panels.MaxAbsCode);
            fixed (byte* px = x)
            fixed (float* ps = scales, pb = bias, po = output)
            fixed (int* pacc = sums)
            {
                var job = new Job
                {
                    X = px,
                    XStride = stride,
                    Rows = rows,
                    InnerLength = panels.Path == IntegerKernelPath.Portable ? k : stride,
                    Width = panels.OutFeatures,
                    Panels = panels.Data.Pointer,
                    PanelBytes = panels.PanelBytes,
                    PanelWidth = panels.PanelWidth,
                    Int4 = panels.Bits == 4,
                    ChunkK = panels.ChunkK,
                    Limit = (int)Math.Max(1, short.MaxValue / (panels.Path == IntegerKernelPath.PairSums ? 2 * largest : largest)),
                    Out = new QuantizedOutput
                    {
                        Sums = sums.IsEmpty ? null : pacc,
                        Output = po,
                        Scales = ps,
                        Bias = bias.IsEmpty ? null : pb,
                        Width = panels.OutFeatures,
                        Positions = positions,
                    },
                    RowBlocks = (rows + RowBlock - 1) / RowBlock,
                };
                long work = (long)Math.Min(rows, RowBlock) * Math.Max(1, k) * panels.PanelWidth / 32;
                int items = job.RowBlocks * panels.Panels;
                if (panels.Path == IntegerKernelPath.DotProduct)
                {
                    Parallelism.For(items, work, job, static (item, j) => Item<DotProductTile>(j, item));
                }
                else if (panels.Path == IntegerKernelPath.PairSums)
                {
                    Parallelism.For(items, work, job, static (item, j) => Item<PairSumTile>(j, item));
                }
                else
                {
                    switch (panels.PortableBits)
                    {
                        case 512: Parallelism.For(items, work, job, static (item, j) => Item<PortableTile<Int16x512, Vector512<short>>>(j, item)); break;
                        case 256: Parallelism.For(items, work, job, static (item, j) => Item<PortableTile<Int16x256, Vector256<short>>>(j, item)); break;
                        default: Parallelism.For(items, work, job, static (item, j) => Item<PortableTile<Int16x128, Vector128<short>>>(j, item)); break;
                    }
                }
            }
        }
        finally
        {
            if (padded is not null) ArrayPool<byte>.Shared.Return(padded);
        }
    }

    /// <summary>A tile kernel: the sums of up to <see cref="TileRows"/> rows against one chunk of one panel.</summary>
    internal interface ITile
    {
        /// <summary>Bytes of one expanded code.</summary>
        static abstract int CodeBytes { get; }

        /// <summary>Expands <paramref name="blocks"/> blocks of 32 packed 4-bit codes into <paramref name="tile"/>.</summary>
        static abstract unsafe void Expand(byte* packed, int blocks, byte* tile);

        /// <summary>
        /// Adds (or, when <paramref name="first"/>, stores) into <paramref name="sums"/> <c>[TileRows][PanelWidth]</c> the
        /// products of rows <c>x, x + stride, …</c> (the first <paramref name="rows"/> real, the rest repeating the
        /// last) over inner indices <c>[k0, k1)</c> with the chunk's codes <paramref name="codes"/>.
        /// </summary>
        static abstract unsafe void Run(in Job job, byte* x, int rows, int k0, int k1, byte* codes, int* sums, bool first);
    }

    [SkipLocalsInit]
    private static unsafe void Item<TTile>(Job job, int item) where TTile : struct, ITile
    {
        int width = job.PanelWidth;
        int rb = item % job.RowBlocks, p = item / job.RowBlocks;
        int r0 = rb * RowBlock, r1 = Math.Min(job.Rows, r0 + RowBlock);
        int* sums = stackalloc int[RowBlock * width];
        byte* raw = stackalloc byte[job.Int4 ? TileBytes + 64 : 1];
        byte* tile = QuantizedSpikeProduct.Align(raw);
        byte* panel = job.Panels + p * job.PanelBytes;
        int inner = job.InnerLength;
        if (inner == 0) new Span<int>(sums, RowBlock * width).Clear();
        for (int k0 = 0; k0 < inner; k0 += job.ChunkK)
        {
            int k1 = Math.Min(inner, k0 + job.ChunkK);
            long first = (long)k0 * width;
            byte* codes;
            if (job.Int4)
            {
                TTile.Expand(panel + first / 2, (int)(((long)(k1 - k0) * width + 31) / 32), tile);
                codes = tile;
            }
            else
            {
                codes = panel + first * TTile.CodeBytes;
            }
            for (int r = r0; r < r1; r += TileRows)
            {
                TTile.Run(job, job.X + r * job.XStride, Math.Min(TileRows, r1 - r), k0, k1, codes, sums + (r - r0) * width, k0 == 0);
            }
        }
        int j0 = p * width, count = Math.Min(job.Width, j0 + width) - j0;
        for (int r = r0; r < r1; r++) job.Out.Write(sums + (r - r0) * width, r, j0, count);
    }

    /// <summary>The AVX-VNNI tile: 6 rows × 16 columns, codes <c>[K/4][16][4]</c> int8.</summary>
    internal readonly struct DotProductTile : ITile
    {
        public static int CodeBytes => 1;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe void Expand(byte* packed, int blocks, byte* tile) => Int4Codes.ExpandBlocks(packed, blocks, (sbyte*)tile);

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static unsafe void Run(in Job job, byte* x, int rows, int k0, int k1, byte* codes, int* sums, bool first)
        {
            long s = job.XStride;
            byte* x0 = x + k0;
            byte* x1 = x0 + (rows > 1 ? s : 0);
            byte* x2 = x0 + (rows > 2 ? 2 * s : (rows - 1) * s);
            byte* x3 = x0 + (rows > 3 ? 3 * s : (rows - 1) * s);
            byte* x4 = x0 + (rows > 4 ? 4 * s : (rows - 1) * s);
            byte* x5 = x0 + (rows > 5 ? 5 * s : (rows - 1) * s);
            Vector256<int> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
            if (first)
            {
                c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = Vector256<int>.Zero;
            }
            else
            {
                c00 = Vector256.Load(sums); c01 = Vector256.Load(sums + 8);
                c10 = Vector256.Load(sums + 16); c11 = Vector256.Load(sums + 24);
                c20 = Vector256.Load(sums + 32); c21 = Vector256.Load(sums + 40);
                c30 = Vector256.Load(sums + 48); c31 = Vector256.Load(sums + 56);
                c40 = Vector256.Load(sums + 64); c41 = Vector256.Load(sums + 72);
                c50 = Vector256.Load(sums + 80); c51 = Vector256.Load(sums + 88);
            }
            int groups = (k1 - k0) >> 2;
            sbyte* w = (sbyte*)codes;
            for (int g = 0; g < groups; g++, w += 64)
            {
                var w0 = Vector256.Load(w);
                var w1 = Vector256.Load(w + 32);
                int o = 4 * g;
                var b = Vector256.Create(Unsafe.ReadUnaligned<int>(x0 + o)).AsByte();
                c00 = AvxVnni.MultiplyWideningAndAdd(c00, b, w0);
                c01 = AvxVnni.MultiplyWideningAndAdd(c01, b, w1);
                b = Vector256.Create(Unsafe.ReadUnaligned<int>(x1 + o)).AsByte();
                c10 = AvxVnni.MultiplyWideningAndAdd(c10, b, w0);
                c11 = AvxVnni.MultiplyWideningAndAdd(c11, b, w1);
                b = Vector256.Create(Unsafe.ReadUnaligned<int>(x2 + o)).AsByte();
                c20 = AvxVnni.MultiplyWideningAndAdd(c20, b, w0);
                c21 = AvxVnni.MultiplyWideningAndAdd(c21, b, w1);
                b = Vector256.Create(Unsafe.ReadUnaligned<int>(x3 + o)).AsByte();
                c30 = AvxVnni.MultiplyWideningAndAdd(c30, b, w0);
                c31 = AvxVnni.MultiplyWideningAndAdd(c31, b, w1);
                b = Vector256.Create(Unsafe.ReadUnaligned<int>(x4 + o)).AsByte();
                c40 = AvxVnni.MultiplyWideningAndAdd(c40, b, w0);
                c41 = AvxVnni.MultiplyWideningAndAdd(c41, b, w1);
                b = Vector256.Create(Unsafe.ReadUnaligned<int>(x5 + o)).AsByte();
                c50 = AvxVnni.MultiplyWideningAndAdd(c50, b, w0);
                c51 = AvxVnni.MultiplyWideningAndAdd(c51, b, w1);
            }
            c00.Store(sums); c01.Store(sums + 8);
            c10.Store(sums + 16); c11.Store(sums + 24);
            c20.Store(sums + 32); c21.Store(sums + 40);
            c30.Store(sums + 48); c31.Store(sums + 56);
            c40.Store(sums + 64); c41.Store(sums + 72);
            c50.Store(sums + 80); c51.Store(sums + 88);
        }
    }

    /// <summary>
    /// Whether the pair-sum tile is exact for counts up to <paramref name="maxCount"/> against codes up to
    /// <paramref name="maxAbsCode"/> in magnitude: <c>vpmaddubsw</c> saturates a sum of two products at ±32767.
    /// </summary>
    public static bool PairSumsExact(int maxCount, int maxAbsCode) => 2L * maxCount * maxAbsCode <= short.MaxValue;

    /// <summary>
    /// The AVX-512BW tile: 6 rows × 32 columns, codes <c>[K/4][32][4]</c> int8. <c>vpmaddubsw</c> gives each int16 lane
    /// the sum of two u8 × s8 products, (k0, k1) in lane 2c and (k2, k3) in lane 2c + 1 of column c; the lanes gather
    /// <see cref="Job.Limit"/> groups in int16, then <c>vpmaddwd</c> by ones adds each column's two lanes into its int32 sum.
    /// </summary>
    internal readonly struct PairSumTile : ITile
    {
        public static int CodeBytes => 1;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe void Expand(byte* packed, int blocks, byte* tile) => Int4Codes.ExpandBlocks(packed, blocks, (sbyte*)tile);

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static unsafe void Run(in Job job, byte* x, int rows, int k0, int k1, byte* codes, int* sums, bool first)
        {
            if (first) new Span<int>(sums, TileRows * 32).Clear();
            long s = job.XStride;
            byte* x0 = x + k0;
            byte* x1 = x0 + (rows > 1 ? s : 0);
            byte* x2 = x0 + (rows > 2 ? 2 * s : (rows - 1) * s);
            byte* x3 = x0 + (rows > 3 ? 3 * s : (rows - 1) * s);
            byte* x4 = x0 + (rows > 4 ? 4 * s : (rows - 1) * s);
            byte* x5 = x0 + (rows > 5 ? 5 * s : (rows - 1) * s);
            int groups = (k1 - k0) >> 2;
            var ones = Vector512.Create((short)1);
            for (int start = 0; start < groups; start += job.Limit)
            {
                int end = Math.Min(groups, start + job.Limit);
                Vector512<short> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
                Vector512<short> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
                sbyte* w = (sbyte*)codes + 128L * start;
                for (int g = start; g < end; g++, w += 128)
                {
                    var w0 = Vector512.Load(w);
                    var w1 = Vector512.Load(w + 64);
                    int o = 4 * g;
                    var b = Vector512.Create(Unsafe.ReadUnaligned<int>(x0 + o)).AsByte();
                    c00 += Avx512BW.MultiplyAddAdjacent(b, w0);
                    c01 += Avx512BW.MultiplyAddAdjacent(b, w1);
                    b = Vector512.Create(Unsafe.ReadUnaligned<int>(x1 + o)).AsByte();
                    c10 += Avx512BW.MultiplyAddAdjacent(b, w0);
                    c11 += Avx512BW.MultiplyAddAdjacent(b, w1);
                    b = Vector512.Create(Unsafe.ReadUnaligned<int>(x2 + o)).AsByte();
                    c20 += Avx512BW.MultiplyAddAdjacent(b, w0);
                    c21 += Avx512BW.MultiplyAddAdjacent(b, w1);
                    b = Vector512.Create(Unsafe.ReadUnaligned<int>(x3 + o)).AsByte();
                    c30 += Avx512BW.MultiplyAddAdjacent(b, w0);
                    c31 += Avx512BW.MultiplyAddAdjacent(b, w1);
                    b = Vector512.Create(Unsafe.ReadUnaligned<int>(x4 + o)).AsByte();
                    c40 += Avx512BW.MultiplyAddAdjacent(b, w0);
                    c41 += Avx512BW.MultiplyAddAdjacent(b, w1);
                    b = Vector512.Create(Unsafe.ReadUnaligned<int>(x5 + o)).AsByte();
                    c50 += Avx512BW.MultiplyAddAdjacent(b, w0);
                    c51 += Avx512BW.MultiplyAddAdjacent(b, w1);
                }
                Fold(c00, ones, sums); Fold(c01, ones, sums + 16);
                Fold(c10, ones, sums + 32); Fold(c11, ones, sums + 48);
                Fold(c20, ones, sums + 64); Fold(c21, ones, sums + 80);
                Fold(c30, ones, sums + 96); Fold(c31, ones, sums + 112);
                Fold(c40, ones, sums + 128); Fold(c41, ones, sums + 144);
                Fold(c50, ones, sums + 160); Fold(c51, ones, sums + 176);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static unsafe void Fold(Vector512<short> pairs, Vector512<short> ones, int* sums) =>
            (Vector512.Load(sums) + Avx512BW.MultiplyAddAdjacent(pairs, ones)).Store(sums);
    }

    /// <summary>The portable tile: 6 rows × 2 vectors of int16 columns, codes <c>[K][2·lanes]</c> int16.</summary>
    internal readonly struct PortableTile<TLanes, TVec> : ITile where TLanes : struct, IInt16Lanes<TVec> where TVec : struct
    {
        public static int CodeBytes => 2;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe void Expand(byte* packed, int blocks, byte* tile) => Int4Codes.ExpandBlocks(packed, blocks, (short*)tile);

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static unsafe void Run(in Job job, byte* x, int rows, int k0, int k1, byte* codes, int* sums, bool first)
        {
            int n = TLanes.Count, width = 2 * n;
            if (first) new Span<int>(sums, TileRows * width).Clear();
            long s = job.XStride;
            byte* x0 = x;
            byte* x1 = x0 + (rows > 1 ? s : 0);
            byte* x2 = x0 + (rows > 2 ? 2 * s : (rows - 1) * s);
            byte* x3 = x0 + (rows > 3 ? 3 * s : (rows - 1) * s);
            byte* x4 = x0 + (rows > 4 ? 4 * s : (rows - 1) * s);
            byte* x5 = x0 + (rows > 5 ? 5 * s : (rows - 1) * s);
            short* w = (short*)codes - (long)k0 * width;
            for (int start = k0; start < k1; start += job.Limit)
            {
                int end = Math.Min(k1, start + job.Limit);
                TVec c00 = TLanes.Zero, c01 = TLanes.Zero, c10 = TLanes.Zero, c11 = TLanes.Zero, c20 = TLanes.Zero, c21 = TLanes.Zero;
                TVec c30 = TLanes.Zero, c31 = TLanes.Zero, c40 = TLanes.Zero, c41 = TLanes.Zero, c50 = TLanes.Zero, c51 = TLanes.Zero;
                for (int k = start; k < end; k++)
                {
                    short* row = w + (long)k * width;
                    TVec w0 = TLanes.Load(row), w1 = TLanes.Load(row + n);
                    TVec b = TLanes.Broadcast(x0[k]);
                    c00 = TLanes.MultiplyAdd(c00, b, w0);
                    c01 = TLanes.MultiplyAdd(c01, b, w1);
                    b = TLanes.Broadcast(x1[k]);
                    c10 = TLanes.MultiplyAdd(c10, b, w0);
                    c11 = TLanes.MultiplyAdd(c11, b, w1);
                    b = TLanes.Broadcast(x2[k]);
                    c20 = TLanes.MultiplyAdd(c20, b, w0);
                    c21 = TLanes.MultiplyAdd(c21, b, w1);
                    b = TLanes.Broadcast(x3[k]);
                    c30 = TLanes.MultiplyAdd(c30, b, w0);
                    c31 = TLanes.MultiplyAdd(c31, b, w1);
                    b = TLanes.Broadcast(x4[k]);
                    c40 = TLanes.MultiplyAdd(c40, b, w0);
                    c41 = TLanes.MultiplyAdd(c41, b, w1);
                    b = TLanes.Broadcast(x5[k]);
                    c50 = TLanes.MultiplyAdd(c50, b, w0);
                    c51 = TLanes.MultiplyAdd(c51, b, w1);
                }
                TLanes.AddWidened(c00, sums); TLanes.AddWidened(c01, sums + n);
                TLanes.AddWidened(c10, sums + width); TLanes.AddWidened(c11, sums + width + n);
                TLanes.AddWidened(c20, sums + 2 * width); TLanes.AddWidened(c21, sums + 2 * width + n);
                TLanes.AddWidened(c30, sums + 3 * width); TLanes.AddWidened(c31, sums + 3 * width + n);
                TLanes.AddWidened(c40, sums + 4 * width); TLanes.AddWidened(c41, sums + 4 * width + n);
                TLanes.AddWidened(c50, sums + 5 * width); TLanes.AddWidened(c51, sums + 5 * width + n);
            }
        }
    }
}
