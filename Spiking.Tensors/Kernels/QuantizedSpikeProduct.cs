using System;
using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// <c>acc[M, N] = Σ_{k : bit (m, k) set} q[N, K]</c>, the integer form of <see cref="SpikeAccumulate"/>: weights
/// selected by spikes, summed with no multiplication, then the epilogue of <see cref="QuantizedEpilogue"/>. The
/// codes are stored transposed in column panels of int16 (<see cref="QuantizedSpikePanels"/>), so one set bit adds
/// 2 or 4 vectors of a code row into int16 accumulators: twice the columns per instruction of the float kernel. The
/// accumulators move into int32 every <c>⌊32767 / max |code|⌋</c> set bits (255 for 8-bit codes), so nothing wraps.
/// As in <see cref="SpikeAccumulate"/>, the set bits of every row are listed once per call, and items are (row
/// block, column panel) tiles walking K in chunks whose codes stay in L2 (for 4-bit codes, expanded once per chunk
/// into a stack tile). The sums are exact, so any order and thread count gives the same bits.
/// </summary>
internal static class QuantizedSpikeProduct
{
    /// <summary>Rows per work item.</summary>
    public const int RowBlock = 64;

    /// <summary>Bytes of one chunk of expanded int16 codes.</summary>
    public const int TileBytes = 65536;

    private unsafe struct Job
    {
        public int Rows;
        public int InFeatures;
        public byte* Panels;
        public long PanelBytes;
        public int PanelWidth;
        public bool Int4;
        public int ChunkK;
        public int Chunks;
        public int Limit;
        public int* Indices;
        public int* ChunkStarts;
        public QuantizedOutput Out;
        public int RowBlocks;
    }

    /// <summary>
    /// The product of <paramref name="spikes"/> (rows of <see cref="SpikeTensor.WordsFor"/>(K) words) with the codes,
    /// into <paramref name="sums"/> when it is not empty, else through the epilogue into <paramref name="output"/> <c>[rows, N]</c>.
    /// </summary>
    public static unsafe void Run(ReadOnlySpan<ulong> spikes, int rows, QuantizedSpikePanels panels, ReadOnlySpan<float> scales, ReadOnlySpan<float> bias,
        Span<float> output, Span<int> sums)
    {
        if (rows == 0 || panels.OutFeatures == 0) return;
        int k = panels.InFeatures, wpr = SpikeTensor.WordsFor(k), chunkK = panels.ChunkK;
        int chunks = Math.Max(1, (k + chunkK - 1) / chunkK);
        int wordsPerChunk = chunkK / 64;
        // Bits past K in a row's last word are zero by SpikeTensor's invariant; masking them keeps a caller's stray bit from indexing past the codes.
        ulong lastMask = BitPack.LastWordMask(k);
        int total = 0;
        for (int i = 0; i < rows * wpr; i++) total += BitOperations.PopCount(spikes[i] & (i % wpr == wpr - 1 ? lastMask : ulong.MaxValue));
        var indices = ArrayPool<int>.Shared.Rent(Math.Max(1, total));
        var chunkStarts = ArrayPool<int>.Shared.Rent(rows * (chunks + 1));
        try
        {
            int at = 0;
            for (int r = 0; r < rows; r++)
            {
                int cs = r * (chunks + 1);
                for (int w = 0; w < wpr; w++)
                {
                    if (w % wordsPerChunk == 0) chunkStarts[cs + w / wordsPerChunk] = at;
                    ulong word = spikes[r * wpr + w] & (w == wpr - 1 ? lastMask : ulong.MaxValue);
                    int basis = w << 6;
                    while (word != 0)
                    {
                        indices[at++] = basis + BitOperations.TrailingZeroCount(word);
                        word &= word - 1;
                    }
                }
                for (int c = (wpr + wordsPerChunk - 1) / wordsPerChunk; c <= chunks; c++) chunkStarts[cs + c] = at;
            }
            fixed (float* ps = scales, pb = bias, po = output)
            fixed (int* pacc = sums, pi = indices, pc = chunkStarts)
            {
                var job = new Job
                {
                    Rows = rows,
                    InFeatures = k,
                    Panels = panels.Data.Pointer,
                    PanelBytes = panels.PanelBytes,
                    PanelWidth = panels.PanelWidth,
                    Int4 = panels.Bits == 4,
                    ChunkK = chunkK,
                    Chunks = chunks,
                    Limit = short.MaxValue / Math.Max(1, panels.MaxAbsCode),
                    Indices = pi,
                    ChunkStarts = pc,
                    Out = new QuantizedOutput
                    {
                        Sums = sums.IsEmpty ? null : pacc,
                        Output = po,
                        Scales = ps,
                        Bias = bias.IsEmpty ? null : pb,
                        Width = panels.OutFeatures,
                    },
                    RowBlocks = (rows + RowBlock - 1) / RowBlock,
                };
                long work = (long)Math.Min(rows, RowBlock) * Math.Max(1, total / rows) * panels.PanelWidth / 16 + (long)k * panels.PanelWidth / 16;
                int items = job.RowBlocks * panels.Panels;
                switch (panels.PortableBits)
                {
                    case 512: Parallelism.For(items, work, job, static (item, j) => Item<Int16x512, Vector512<short>>(j, item)); break;
                    case 256: Parallelism.For(items, work, job, static (item, j) => Item<Int16x256, Vector256<short>>(j, item)); break;
                    default: Parallelism.For(items, work, job, static (item, j) => Item<Int16x128, Vector128<short>>(j, item)); break;
                }
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(indices);
            ArrayPool<int>.Shared.Return(chunkStarts);
        }
    }

    [SkipLocalsInit]
    private static unsafe void Item<TLanes, TVec>(Job job, int item) where TLanes : struct, IInt16Lanes<TVec> where TVec : struct
    {
        int width = job.PanelWidth;
        int rb = item % job.RowBlocks, p = item / job.RowBlocks;
        int r0 = rb * RowBlock, r1 = Math.Min(job.Rows, r0 + RowBlock);
        int* sums = stackalloc int[RowBlock * width];
        new Span<int>(sums, RowBlock * width).Clear();
        byte* raw = stackalloc byte[job.Int4 ? TileBytes + 64 : 1];
        short* tile = (short*)Align(raw);
        byte* panel = job.Panels + p * job.PanelBytes;
        bool four = width == 4 * TLanes.Count;
        for (int c = 0; c < job.Chunks; c++)
        {
            // Code row k of the chunk is at rowsBase + k·width for every k the chunk lists.
            short* rowsBase;
            if (job.Int4)
            {
                long first = (long)c * job.ChunkK * width;
                int chunkRows = Math.Min(job.ChunkK, job.InFeatures - c * job.ChunkK);
                Int4Codes.ExpandBlocks(panel + first / 2, (int)(((long)chunkRows * width + 31) / 32), tile);
                rowsBase = tile - first;
            }
            else
            {
                rowsBase = (short*)panel;
            }
            for (int r = r0; r < r1; r++)
            {
                int* starts = job.ChunkStarts + r * (job.Chunks + 1) + c;
                int* first = job.Indices + starts[0];
                int count = starts[1] - starts[0];
                if (four) Sum4<TLanes, TVec>(first, count, rowsBase, width, job.Limit, sums + (r - r0) * width);
                else Sum2<TLanes, TVec>(first, count, rowsBase, width, job.Limit, sums + (r - r0) * width);
            }
        }
        int j0 = p * width, n = Math.Min(job.Out.Width, j0 + width) - j0;
        for (int r = r0; r < r1; r++) job.Out.Write(sums + (r - r0) * width, r, j0, n);
    }

    /// <summary>The first 64-byte aligned address at or after <paramref name="p"/> (a stack buffer is allocated 64 bytes long for it).</summary>
    internal static unsafe byte* Align(byte* p) => (byte*)(((nint)p + 63) & ~(nint)63);

    /// <summary>Adds code rows <paramref name="indices"/> of a four-vector panel into the int32 <paramref name="sums"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Sum4<TLanes, TVec>(int* indices, int count, short* rows, int width, int limit, int* sums)
        where TLanes : struct, IInt16Lanes<TVec> where TVec : struct
    {
        int n = TLanes.Count;
        for (int start = 0; start < count; start += limit)
        {
            int end = Math.Min(count, start + limit);
            TVec a0 = TLanes.Zero, a1 = TLanes.Zero, a2 = TLanes.Zero, a3 = TLanes.Zero;
            for (int i = start; i < end; i++)
            {
                short* row = rows + (long)indices[i] * width;
                a0 = TLanes.Add(a0, TLanes.Load(row));
                a1 = TLanes.Add(a1, TLanes.Load(row + n));
                a2 = TLanes.Add(a2, TLanes.Load(row + 2 * n));
                a3 = TLanes.Add(a3, TLanes.Load(row + 3 * n));
            }
            TLanes.AddWidened(a0, sums);
            TLanes.AddWidened(a1, sums + n);
            TLanes.AddWidened(a2, sums + 2 * n);
            TLanes.AddWidened(a3, sums + 3 * n);
        }
    }

    /// <summary>Adds code rows <paramref name="indices"/> of a two-vector panel into the int32 <paramref name="sums"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Sum2<TLanes, TVec>(int* indices, int count, short* rows, int width, int limit, int* sums)
        where TLanes : struct, IInt16Lanes<TVec> where TVec : struct
    {
        int n = TLanes.Count;
        for (int start = 0; start < count; start += limit)
        {
            int end = Math.Min(count, start + limit);
            TVec a0 = TLanes.Zero, a1 = TLanes.Zero;
            for (int i = start; i < end; i++)
            {
                short* row = rows + (long)indices[i] * width;
                a0 = TLanes.Add(a0, TLanes.Load(row));
                a1 = TLanes.Add(a1, TLanes.Load(row + n));
            }
            TLanes.AddWidened(a0, sums);
            TLanes.AddWidened(a1, sums + n);
        }
    }
}
