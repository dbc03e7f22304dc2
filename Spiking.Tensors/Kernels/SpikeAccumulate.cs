using System;
using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// Spike-driven products with no multiplication: each set bit adds a row of a float matrix.
/// <list type="bullet">
/// <item><see cref="Forward(ReadOnlySpan{ulong}, int, int, ReadOnlySpan{float}, int, ReadOnlySpan{float}, Span{float}, bool, ReadOnlySpan{float})"/>
/// (and its overload taking <see cref="SpikeWeightPanels"/>): <c>Y[M,N] = S[M,K]·Wᵀ + b</c> for a PyTorch-layout weight
/// <c>W[N,K]</c>, given its transpose <c>Wᵀ[K,N]</c> (see <see cref="TransposedWeightCache"/>): row m of Y is the sum of the rows of Wᵀ picked by the bits of row m of S.</item>
/// <item><see cref="WeightGradient"/>: <c>dW[N,K] = Gᵀ[N,M]·S[M,K]</c>: the spike matrix is bit-transposed, then row k of dWᵀ is
/// the sum of the rows of G picked by the bits of column k of S, stored transposed into dW.</item>
/// </list>
/// The cost falls with the firing rate. Rows denser than one half are computed from the complement,
/// <c>Σ_all − Σ_unset</c>, when the column sums are supplied, so the cost also falls as the rate nears 1.
/// Accumulators for a block of <c>8 × vector width</c> output columns stay in registers while the bits of a
/// row are walked; the partition into (row block, column block) items depends only on the shape, and each
/// output element is summed by one item in ascending bit order, so results do not depend on the thread count.
/// </summary>
public static class SpikeAccumulate
{
    private const int RowBlock = 256;

    /// <summary>Bits of a row summed per pass: 512 source rows of one column block (128 KiB for AVX2) stay in L2.</summary>
    private const int ChunkBits = 512;

    /// <summary>
    /// <c>output[M,N] = spikes[M,K]·Wᵀ + bias</c> (or <c>+=</c> when <paramref name="accumulate"/>), where
    /// <paramref name="weightTransposed"/> is <c>Wᵀ[K,N]</c>. <paramref name="bias"/> may be empty. When
    /// <paramref name="columnSums"/> (<c>Σ_k Wᵀ[k,:]</c>, length N) is given, rows with more than K/2 spikes are
    /// summed from their zero bits instead.
    /// </summary>
    /// <exception cref="ArgumentException">A span's length does not match the dimensions.</exception>
    public static void Forward(ReadOnlySpan<ulong> spikes, int m, int k, ReadOnlySpan<float> weightTransposed, int n,
        ReadOnlySpan<float> bias, Span<float> output, bool accumulate = false, ReadOnlySpan<float> columnSums = default)
    {
        CheckForward(spikes, m, k, weightTransposed, n, bias, output, columnSums);
        if (m == 0 || n == 0) return;
        int blockWidth = SpikeWeightPanels.NarrowPanelWidth(n);
        var panels = ArrayPool<float>.Shared.Rent(Math.Max(1, SpikeWeightPanels.PanelLength(k, n, blockWidth)));
        try
        {
            SpikeWeightPanels.PackRows(weightTransposed, k, n, panels, blockWidth);
            Run(spikes, m, k, panels, blockWidth, n, bias, columnSums, output, transposedOutput: false, accumulate);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(panels);
        }
    }

    /// <summary>
    /// <c>output[M,N] = spikes[M,K]·Wᵀ + bias</c> (or <c>+=</c>) from a weight already packed into panels with its
    /// column sums (see <see cref="TransposedWeightCache"/>): the form a layer uses, which packs once per update.
    /// </summary>
    /// <exception cref="ArgumentException">A span's length does not match the dimensions.</exception>
    public static void Forward(ReadOnlySpan<ulong> spikes, int m, SpikeWeightPanels weight, ReadOnlySpan<float> bias, Span<float> output, bool accumulate = false)
    {
        ArgumentNullException.ThrowIfNull(weight);
        int k = weight.InFeatures, n = weight.OutFeatures;
        CheckDims(m, k, n);
        long words = (long)m * SpikeTensor.WordsFor(k);
        if (spikes.Length < words) throw new ArgumentException($"Spikes hold {spikes.Length} words; [{m}, {k}] bits need {words}.", nameof(spikes));
        if (!bias.IsEmpty && bias.Length != n) throw new ArgumentException($"Bias has length {bias.Length}; expected {n} (or none).", nameof(bias));
        if (output.Length < (long)m * n) throw new ArgumentException($"Output holds {output.Length} floats; [{m}, {n}] needs {(long)m * n}.", nameof(output));
        if (m == 0 || n == 0) return;
        Run(spikes, m, k, weight.Panels, SpikeWeightPanels.PanelWidth, n, bias, weight.ColumnSums, output, transposedOutput: false, accumulate);
    }

    /// <summary>
    /// <c>weightGradient[N,K] = gradOutput[M,N]ᵀ·spikes[M,K]</c> (or <c>+=</c> when <paramref name="accumulate"/>).
    /// </summary>
    /// <exception cref="ArgumentException">A span's length does not match the dimensions.</exception>
    public static void WeightGradient(ReadOnlySpan<float> gradOutput, ReadOnlySpan<ulong> spikes, int m, int k, int n,
        Span<float> weightGradient, bool accumulate = false)
    {
        CheckWeightGradient(gradOutput, spikes, m, k, n, weightGradient);
        if (k == 0 || n == 0) return;
        int wordsT = SpikeTensor.WordsFor(m);
        var transposed = ArrayPool<ulong>.Shared.Rent(Math.Max(1, k * wordsT));
        var sums = ArrayPool<float>.Shared.Rent(Math.Max(1, n));
        int blockWidth = SpikeWeightPanels.NarrowPanelWidth(n);
        var panels = ArrayPool<float>.Shared.Rent(Math.Max(1, SpikeWeightPanels.PanelLength(m, n, blockWidth)));
        try
        {
            BitTranspose.Transpose(spikes, m, k, transposed);
            var colSums = sums.AsSpan(0, n);
            colSums.Clear();
            for (int r = 0; r < m; r++) TensorPrimitives.Add(colSums, gradOutput.Slice(r * n, n), colSums);
            SpikeWeightPanels.PackRows(gradOutput, m, n, panels, blockWidth);
            Run(transposed.AsSpan(0, k * wordsT), k, m, panels, blockWidth, n, default, colSums, weightGradient, transposedOutput: true, accumulate);
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(transposed);
            ArrayPool<float>.Shared.Return(sums);
            ArrayPool<float>.Shared.Return(panels);
        }
    }

    /// <summary>
    /// The plain version of
    /// <see cref="Forward(ReadOnlySpan{ulong}, int, int, ReadOnlySpan{float}, int, ReadOnlySpan{float}, Span{float}, bool, ReadOnlySpan{float})"/>:
    /// per row, a scalar sum of the selected rows in ascending bit order.
    /// </summary>
    public static void ForwardReference(ReadOnlySpan<ulong> spikes, int m, int k, ReadOnlySpan<float> weightTransposed, int n,
        ReadOnlySpan<float> bias, Span<float> output, bool accumulate = false)
    {
        CheckForward(spikes, m, k, weightTransposed, n, bias, output, default);
        int wpr = SpikeTensor.WordsFor(k);
        for (int r = 0; r < m; r++)
        {
            for (int j = 0; j < n; j++)
            {
                float s = bias.IsEmpty ? 0f : bias[j];
                for (int c = 0; c < k; c++)
                {
                    if ((spikes[r * wpr + (c >> 6)] >> (c & 63) & 1) != 0) s += weightTransposed[c * n + j];
                }
                output[r * n + j] = accumulate ? output[r * n + j] + s : s;
            }
        }
    }

    /// <summary>The plain version of <see cref="WeightGradient"/>: per weight, a scalar sum over spiking rows in ascending order.</summary>
    public static void WeightGradientReference(ReadOnlySpan<float> gradOutput, ReadOnlySpan<ulong> spikes, int m, int k, int n,
        Span<float> weightGradient, bool accumulate = false)
    {
        CheckWeightGradient(gradOutput, spikes, m, k, n, weightGradient);
        int wpr = SpikeTensor.WordsFor(k);
        for (int j = 0; j < n; j++)
        {
            for (int c = 0; c < k; c++)
            {
                float s = 0f;
                for (int r = 0; r < m; r++)
                {
                    if ((spikes[r * wpr + (c >> 6)] >> (c & 63) & 1) != 0) s += gradOutput[r * n + j];
                }
                weightGradient[j * k + c] = accumulate ? weightGradient[j * k + c] + s : s;
            }
        }
    }

    private static void CheckForward(ReadOnlySpan<ulong> spikes, int m, int k, ReadOnlySpan<float> weightTransposed, int n,
        ReadOnlySpan<float> bias, Span<float> output, ReadOnlySpan<float> columnSums)
    {
        CheckDims(m, k, n);
        long words = (long)m * SpikeTensor.WordsFor(k);
        if (spikes.Length < words) throw new ArgumentException($"Spikes hold {spikes.Length} words; [{m}, {k}] bits need {words}.", nameof(spikes));
        if (weightTransposed.Length < (long)k * n) throw new ArgumentException($"Transposed weight holds {weightTransposed.Length} floats; [{k}, {n}] needs {(long)k * n}.", nameof(weightTransposed));
        if (!bias.IsEmpty && bias.Length != n) throw new ArgumentException($"Bias has length {bias.Length}; expected {n} (or none).", nameof(bias));
        if (!columnSums.IsEmpty && columnSums.Length != n) throw new ArgumentException($"Column sums have length {columnSums.Length}; expected {n} (or none).", nameof(columnSums));
        if (output.Length < (long)m * n) throw new ArgumentException($"Output holds {output.Length} floats; [{m}, {n}] needs {(long)m * n}.", nameof(output));
    }

    private static void CheckWeightGradient(ReadOnlySpan<float> gradOutput, ReadOnlySpan<ulong> spikes, int m, int k, int n, Span<float> weightGradient)
    {
        CheckDims(m, k, n);
        if (gradOutput.Length < (long)m * n) throw new ArgumentException($"Output gradient holds {gradOutput.Length} floats; [{m}, {n}] needs {(long)m * n}.", nameof(gradOutput));
        long words = (long)m * SpikeTensor.WordsFor(k);
        if (spikes.Length < words) throw new ArgumentException($"Spikes hold {spikes.Length} words; [{m}, {k}] bits need {words}.", nameof(spikes));
        if (weightGradient.Length < (long)n * k) throw new ArgumentException($"Weight gradient holds {weightGradient.Length} floats; [{n}, {k}] needs {(long)n * k}.", nameof(weightGradient));
    }

    private static void CheckDims(int m, int k, int n)
    {
        if (m < 0 || k < 0 || n < 0)
        {
            string name = m < 0 ? nameof(m) : k < 0 ? nameof(k) : nameof(n);
            throw new ArgumentOutOfRangeException(name, $"Dimensions (M={m}, K={k}, N={n}) must be non-negative.");
        }
    }

    /// <summary>
    /// Pointers to pinned operands and the index lists, valid while <see cref="Run"/> blocks on the parallel loop.
    /// Row r's summed source rows (its set bits, or its unset bits when <c>Complement[r]</c>), ascending, are
    /// <c>Indices[ChunkStarts[r*(Chunks+1)] .. ChunkStarts[r*(Chunks+1)+Chunks])</c>; entry c of that run of
    /// <c>ChunkStarts</c> is where chunk c begins.
    /// </summary>
    private unsafe struct Job
    {
        public int Rows;
        public float* Source;
        public long PanelStride;
        public int BlockWidth;
        public int Width;
        public float* Bias;
        public float* ColumnSums;
        public float* Output;
        public bool TransposedOutput;
        public bool Accumulate;
        public int RowBlocks;
        public int Chunks;
        public int* Indices;
        public int* ChunkStarts;
        public byte* Complement;
    }

    private static unsafe void Run(ReadOnlySpan<ulong> bits, int rows, int bitsPerRow, ReadOnlySpan<float> panels, int blockWidth, int width,
        ReadOnlySpan<float> bias, ReadOnlySpan<float> columnSums, Span<float> output, bool transposedOutput, bool accumulate)
    {
        if (rows == 0 || width == 0) return;
        int wpr = SpikeTensor.WordsFor(bitsPerRow);
        int chunks = Math.Max(1, (bitsPerRow + ChunkBits - 1) / ChunkBits);
        var complement = ArrayPool<byte>.Shared.Rent(rows);
        var chunkStarts = ArrayPool<int>.Shared.Rent(rows * (chunks + 1));
        int total = 0;
        ulong lastMask = BitPack.LastWordMask(bitsPerRow);
        for (int r = 0; r < rows; r++)
        {
            int count = 0;
            var row = bits.Slice(r * wpr, wpr);
            foreach (ulong w in row) count += BitOperations.PopCount(w);
            bool flip = !columnSums.IsEmpty && 2 * count > bitsPerRow;
            complement[r] = flip ? (byte)1 : (byte)0;
            total += flip ? bitsPerRow - count : count;
        }
        var indices = ArrayPool<int>.Shared.Rent(Math.Max(1, total));
        try
        {
            int at = 0;
            for (int r = 0; r < rows; r++)
            {
                ulong flip = complement[r] != 0 ? ulong.MaxValue : 0;
                int cs = r * (chunks + 1);
                for (int w = 0; w < wpr; w++)
                {
                    if ((w & (ChunkBits / 64 - 1)) == 0) chunkStarts[cs + w / (ChunkBits / 64)] = at;
                    ulong word = (bits[r * wpr + w] ^ flip) & (w == wpr - 1 ? lastMask : ulong.MaxValue);
                    int basis = w << 6;
                    while (word != 0)
                    {
                        indices[at++] = basis + BitOperations.TrailingZeroCount(word);
                        word &= word - 1;
                    }
                }
                for (int c = (wpr + ChunkBits / 64 - 1) / (ChunkBits / 64); c <= chunks; c++) chunkStarts[cs + c] = at;
            }
            fixed (float* ps = panels, pbias = bias, pcs = columnSums, po = output)
            fixed (int* pi = indices, pc = chunkStarts)
            fixed (byte* pf = complement)
            {
                var job = new Job
                {
                    Rows = rows,
                    Source = ps,
                    PanelStride = (long)bitsPerRow * blockWidth,
                    BlockWidth = blockWidth,
                    Width = width,
                    Bias = bias.IsEmpty ? null : pbias,
                    ColumnSums = columnSums.IsEmpty ? null : pcs,
                    Output = po,
                    TransposedOutput = transposedOutput,
                    Accumulate = accumulate,
                    RowBlocks = (rows + RowBlock - 1) / RowBlock,
                    Chunks = chunks,
                    Indices = pi,
                    ChunkStarts = pc,
                    Complement = pf,
                };
                long workPerItem = (long)Math.Min(rows, RowBlock) * Math.Max(1, total / rows) * Math.Min(width, 64) / 8;
                switch (SimdWidth.Bits)
                {
                    case 512: Dispatch<Simd512, Vector512<float>>(job, workPerItem); break;
                    case 256: Dispatch<Simd256, Vector256<float>>(job, workPerItem); break;
                    default: Dispatch<Simd128, Vector128<float>>(job, workPerItem); break;
                }
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(indices);
            ArrayPool<int>.Shared.Return(chunkStarts);
            ArrayPool<byte>.Shared.Return(complement);
        }
    }

    private static void Dispatch<TSimd, TVec>(Job job, long workPerItem) where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int blockWidth = job.BlockWidth;
        int columnBlocks = (job.Width + blockWidth - 1) / blockWidth;
        Parallelism.For(job.RowBlocks * columnBlocks, workPerItem, job, static (item, j) => Item<TSimd, TVec>(j, item));
    }

    /// <summary>
    /// One (row block, column panel) tile: chunk by chunk of the summed index range, so the slice of the panel a
    /// chunk touches stays in L2 while every row of the block walks it; partial sums wait in a scratch tile. Panels
    /// are contiguous and zero-padded to the full width, so every tile runs the eight-accumulator loop and only
    /// the write-back looks at the real width.
    /// </summary>
    [SkipLocalsInit]
    private static unsafe void Item<TSimd, TVec>(Job job, int item) where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int blockWidth = job.BlockWidth;
        int cb = item / job.RowBlocks;
        int rb = item % job.RowBlocks;
        int r0 = rb * RowBlock;
        int r1 = Math.Min(job.Rows, r0 + RowBlock);
        int j0 = cb * blockWidth;
        int j1 = Math.Min(job.Width, j0 + blockWidth);
        float* panel = job.Source + cb * job.PanelStride;
        float* scratch = stackalloc float[RowBlock * blockWidth];
        float* sumsBuffer = stackalloc float[blockWidth];
        float* biasBuffer = stackalloc float[blockWidth];
        float* sums = Padded(job.ColumnSums, j0, j1, sumsBuffer, blockWidth);
        float* bias = Padded(job.Bias, j0, j1, biasBuffer, blockWidth);
        // A narrow last (or only) block, such as a convolution's 32 output channels, sums only the vectors it needs.
        int vectors = (j1 - j0 + TSimd.Count - 1) / TSimd.Count;
        for (int c = 0; c < job.Chunks; c++)
        {
            for (int r = r0; r < r1; r++)
            {
                float* partial = scratch + (r - r0) * blockWidth;
                int* starts = job.ChunkStarts + r * (job.Chunks + 1) + c;
                int* first = job.Indices + starts[0];
                int count = starts[1] - starts[0];
                if (job.Complement[r] != 0)
                {
                    Sum<TSimd, TVec, Subtract<TSimd, TVec>>(vectors, panel, blockWidth, first, count, c > 0 ? partial : sums, partial);
                }
                else
                {
                    Sum<TSimd, TVec, Add<TSimd, TVec>>(vectors, panel, blockWidth, first, count, c > 0 ? partial : bias, partial);
                }
            }
        }
        if (job.TransposedOutput)
        {
            WriteTransposed(job, r0, r1, j0, j1, scratch, blockWidth);
            return;
        }
        for (int r = r0; r < r1; r++) Write(job, r, j0, j1, scratch + (r - r0) * blockWidth, job.Complement[r] != 0);
    }

    /// <summary>
    /// Stores a tile into the transposed output, output row j taking the tile's column j as one contiguous run.
    /// Storing row by row instead (one float per output row) hits rows a power-of-two stride apart, which share one
    /// L1 set: at <c>K = 4096</c> that made the store, not the sums, the cost of a weight gradient.
    /// </summary>
    private static unsafe void WriteTransposed(in Job job, int r0, int r1, int j0, int j1, float* tile, int tileStride)
    {
        for (int r = r0; r < r1; r++)
        {
            if (job.Complement[r] != 0 && job.Bias != null)
            {
                var values = new Span<float>(tile + (r - r0) * tileStride, j1 - j0);
                TensorPrimitives.Add(values, new ReadOnlySpan<float>(job.Bias + j0, j1 - j0), values);
            }
        }
        int rows = r1 - r0, columns = j1 - j0;
        int j = 0;
        if (!job.Accumulate && System.Runtime.Intrinsics.X86.Avx.IsSupported)
        {
            for (; j + 8 <= columns; j += 8)
            {
                int r = 0;
                for (; r + 8 <= rows; r += 8)
                {
                    Transpose.Block8(tile + (long)r * tileStride + j, tileStride, job.Output + (long)(j0 + j) * job.Rows + r0 + r, job.Rows);
                }
                for (; r < rows; r++)
                {
                    for (int c = j; c < j + 8; c++) job.Output[(long)(j0 + c) * job.Rows + r0 + r] = tile[(long)r * tileStride + c];
                }
            }
        }
        for (; j < columns; j++)
        {
            float* o = job.Output + (long)(j0 + j) * job.Rows + r0;
            for (int r = 0; r < rows; r++) o[r] = job.Accumulate ? o[r] + tile[(long)r * tileStride + j] : tile[(long)r * tileStride + j];
        }
    }

    /// <summary><paramref name="values"/> + j0 when the block is full, else a zero-padded copy in <paramref name="buffer"/>; null stays null.</summary>
    private static unsafe float* Padded(float* values, int j0, int j1, float* buffer, int blockWidth)
    {
        if (values == null) return null;
        if (j1 - j0 == blockWidth) return values + j0;
        for (int j = 0; j < blockWidth; j++) buffer[j] = j0 + j < j1 ? values[j0 + j] : 0f;
        return buffer;
    }

    /// <summary>Sums the listed source rows over the first <paramref name="vectors"/> vectors of a block (8, or 4 or 2 for a narrow block).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Sum<TSimd, TVec, TOp>(int vectors, float* source, int width, int* indices, int count, float* initial, float* result)
        where TSimd : struct, ISimd<TVec> where TVec : struct where TOp : struct, IAccumulateOp<TVec>
    {
        if (vectors <= 2) SumBlock2<TSimd, TVec, TOp>(source, width, indices, count, initial, result);
        else if (vectors <= 4) SumBlock4<TSimd, TVec, TOp>(source, width, indices, count, initial, result);
        else SumBlock<TSimd, TVec, TOp>(source, width, indices, count, initial, result);
    }

    /// <summary>The first two vectors of <see cref="SumBlock"/>, for blocks at most two vectors wide.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void SumBlock2<TSimd, TVec, TOp>(float* source, int width, int* indices, int count, float* initial, float* result)
        where TSimd : struct, ISimd<TVec> where TVec : struct where TOp : struct, IAccumulateOp<TVec>
    {
        int n = TSimd.Count;
        TVec a0 = initial != null ? TSimd.Load(ref initial[0]) : TSimd.Zero;
        TVec a1 = initial != null ? TSimd.Load(ref initial[n]) : TSimd.Zero;
        for (int i = 0; i < count; i++)
        {
            float* p = source + (long)indices[i] * width;
            a0 = TOp.Apply(a0, TSimd.Load(ref p[0]));
            a1 = TOp.Apply(a1, TSimd.Load(ref p[n]));
        }
        TSimd.Store(a0, ref result[0]);
        TSimd.Store(a1, ref result[n]);
    }

    /// <summary>The first four vectors of <see cref="SumBlock"/>, for blocks at most four vectors wide.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void SumBlock4<TSimd, TVec, TOp>(float* source, int width, int* indices, int count, float* initial, float* result)
        where TSimd : struct, ISimd<TVec> where TVec : struct where TOp : struct, IAccumulateOp<TVec>
    {
        int n = TSimd.Count;
        TVec a0, a1, a2, a3;
        if (initial != null)
        {
            a0 = TSimd.Load(ref initial[0]); a1 = TSimd.Load(ref initial[n]); a2 = TSimd.Load(ref initial[2 * n]); a3 = TSimd.Load(ref initial[3 * n]);
        }
        else
        {
            a0 = a1 = a2 = a3 = TSimd.Zero;
        }
        for (int i = 0; i < count; i++)
        {
            float* p = source + (long)indices[i] * width;
            a0 = TOp.Apply(a0, TSimd.Load(ref p[0]));
            a1 = TOp.Apply(a1, TSimd.Load(ref p[n]));
            a2 = TOp.Apply(a2, TSimd.Load(ref p[2 * n]));
            a3 = TOp.Apply(a3, TSimd.Load(ref p[3 * n]));
        }
        TSimd.Store(a0, ref result[0]); TSimd.Store(a1, ref result[n]); TSimd.Store(a2, ref result[2 * n]); TSimd.Store(a3, ref result[3 * n]);
    }

    /// <summary>Sums the listed source rows over one full block of output columns in eight register accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void SumBlock<TSimd, TVec, TOp>(float* source, int width, int* indices, int count, float* initial, float* result)
        where TSimd : struct, ISimd<TVec> where TVec : struct where TOp : struct, IAccumulateOp<TVec>
    {
        int n = TSimd.Count;
        TVec a0, a1, a2, a3, a4, a5, a6, a7;
        if (initial != null)
        {
            a0 = TSimd.Load(ref initial[0]); a1 = TSimd.Load(ref initial[n]); a2 = TSimd.Load(ref initial[2 * n]); a3 = TSimd.Load(ref initial[3 * n]);
            a4 = TSimd.Load(ref initial[4 * n]); a5 = TSimd.Load(ref initial[5 * n]); a6 = TSimd.Load(ref initial[6 * n]); a7 = TSimd.Load(ref initial[7 * n]);
        }
        else
        {
            a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = TSimd.Zero;
        }
        for (int i = 0; i < count; i++)
        {
            float* p = source + (long)indices[i] * width;
            a0 = TOp.Apply(a0, TSimd.Load(ref p[0]));
            a1 = TOp.Apply(a1, TSimd.Load(ref p[n]));
            a2 = TOp.Apply(a2, TSimd.Load(ref p[2 * n]));
            a3 = TOp.Apply(a3, TSimd.Load(ref p[3 * n]));
            a4 = TOp.Apply(a4, TSimd.Load(ref p[4 * n]));
            a5 = TOp.Apply(a5, TSimd.Load(ref p[5 * n]));
            a6 = TOp.Apply(a6, TSimd.Load(ref p[6 * n]));
            a7 = TOp.Apply(a7, TSimd.Load(ref p[7 * n]));
        }
        TSimd.Store(a0, ref result[0]); TSimd.Store(a1, ref result[n]); TSimd.Store(a2, ref result[2 * n]); TSimd.Store(a3, ref result[3 * n]);
        TSimd.Store(a4, ref result[4 * n]); TSimd.Store(a5, ref result[5 * n]); TSimd.Store(a6, ref result[6 * n]); TSimd.Store(a7, ref result[7 * n]);
    }

    private static unsafe void Write(in Job job, int r, int j0, int j1, float* results, bool complement)
    {
        var values = new Span<float>(results, j1 - j0);
        if (complement && job.Bias != null)
        {
            TensorPrimitives.Add(values, new ReadOnlySpan<float>(job.Bias + j0, j1 - j0), values);
        }
        var o = new Span<float>(job.Output + (long)r * job.Width + j0, j1 - j0);
        if (job.Accumulate) TensorPrimitives.Add(o, values, o);
        else values.CopyTo(o);
    }

    private interface IAccumulateOp<TVec> where TVec : struct
    {
        static abstract TVec Apply(TVec accumulator, TVec value);
    }

    private readonly struct Add<TSimd, TVec> : IAccumulateOp<TVec> where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TVec Apply(TVec accumulator, TVec value) => TSimd.Add(accumulator, value);
    }

    private readonly struct Subtract<TSimd, TVec> : IAccumulateOp<TVec> where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TVec Apply(TVec accumulator, TVec value) => TSimd.Subtract(accumulator, value);
    }
}
