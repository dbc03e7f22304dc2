using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// <c>Y = M·X</c> along the time axis of the parallel spiking neurons: M is <c>[T, T]</c> with T small, X is
/// <c>[T, N]</c>. Every output element is accumulated from zero in ascending j with multiply-adds: the order of the
/// SGEMM's micro-kernel, so the same bits as <see cref="Gemm.Multiply"/>, without its packing and six-row tiles, which
/// cost more than the product itself at T ≤ 16. The work is register-blocked: four output steps of two vectors of
/// columns at a time (eight accumulators), so each loaded input serves four multiply-adds and each broadcast weight
/// two; M is padded with zero rows to a multiple of four steps. The forward fires in the same pass
/// (<c>h = M·X + b_t ≥ 0</c> straight into bits, h kept only for the backward or a trace); the backward's
/// <c>dL/dX = Wᵀ·dL/dH</c> runs block by block inside the gradient sweep (<see cref="MultiplyBlock"/>) while
/// <c>dL/dH</c> is still in that sweep's buffer. Work items are blocks of whole rows, fixed by the shape.
/// </summary>
internal static class TimeMixKernel
{
    /// <summary><c>h = M·X + b</c> per step into <paramref name="spikes"/> (<c>h ≥ 0</c>), and into <paramref name="h"/> when given.</summary>
    public static void MultiplyAndFire(float[] matrix, float[] stepBias, Tensor x, Tensor? h, SpikeTensor spikes, int steps)
    {
        var job = new Job(Padded(matrix, steps), stepBias, x, h, spikes, steps, x.Shape.LastDimension);
        Parallelism.For(job.Items, job.WorkPerItem, job, static (item, j) => j.Run(item));
    }

    /// <summary><paramref name="matrix"/> <c>[T, T]</c> with zero rows up to a multiple of four, the blocks' layout.</summary>
    public static float[] Padded(float[] matrix, int steps)
    {
        var padded = new float[(steps + 3) / 4 * 4 * steps];
        matrix.AsSpan(0, steps * steps).CopyTo(padded);
        return padded;
    }

    /// <summary>
    /// <c>Y[·, at..at+columns] = M·X</c> for a block of X staged row after row <paramref name="stride"/> floats apart
    /// (zero-padded to whole pairs of vectors), into the rows of <paramref name="y"/> (<paramref name="perStep"/> apart);
    /// <paramref name="padded"/> is M from <see cref="Padded"/>.
    /// </summary>
    public static void MultiplyBlock<TSimd, TVec>(float[] padded, int steps, ReadOnlySpan<float> x, int stride, Span<float> y, int perStep, int at, int columns)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int count = TSimd.Count;
        ref float m = ref MemoryMarshal.GetArrayDataReference(padded);
        ref float source = ref MemoryMarshal.GetReference(x);
        Span<float> lanes = stackalloc float[2 * count];
        for (int i = 0; i < columns; i += 2 * count)
        {
            for (int t0 = 0; t0 < steps; t0 += 4)
            {
                var b = Block<TSimd, TVec>(ref Unsafe.Add(ref m, t0 * steps), steps, ref Unsafe.Add(ref source, i), stride);
                for (int u = 0; u < 4 && t0 + u < steps; u++)
                {
                    var (first, second) = b.Row(u);
                    int valid = Math.Min(2 * count, columns - i);
                    var destination = y.Slice((t0 + u) * perStep + at + i);
                    if (valid == 2 * count)
                    {
                        TSimd.Store(first, ref MemoryMarshal.GetReference(destination));
                        TSimd.Store(second, ref destination[count]);
                        continue;
                    }
                    TSimd.Store(first, ref MemoryMarshal.GetReference(lanes));
                    TSimd.Store(second, ref lanes[count]);
                    lanes[..valid].CopyTo(destination);
                }
            }
        }
    }

    /// <summary>Four output steps (rows t0..t0+3 of M) of two vectors of columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Block4x2<TVec> Block<TSimd, TVec>(ref float rows, int steps, ref float column, nint stride)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int count = TSimd.Count;
        TVec a00 = TSimd.Zero, a01 = TSimd.Zero, a10 = TSimd.Zero, a11 = TSimd.Zero;
        TVec a20 = TSimd.Zero, a21 = TSimd.Zero, a30 = TSimd.Zero, a31 = TSimd.Zero;
        for (int j = 0; j < steps; j++)
        {
            ref float xj = ref Unsafe.Add(ref column, j * stride);
            var x0 = TSimd.Load(ref xj);
            var x1 = TSimd.Load(ref Unsafe.Add(ref xj, count));
            var w = TSimd.Broadcast(Unsafe.Add(ref rows, j));
            a00 = TSimd.MultiplyAdd(w, x0, a00);
            a01 = TSimd.MultiplyAdd(w, x1, a01);
            w = TSimd.Broadcast(Unsafe.Add(ref rows, steps + j));
            a10 = TSimd.MultiplyAdd(w, x0, a10);
            a11 = TSimd.MultiplyAdd(w, x1, a11);
            w = TSimd.Broadcast(Unsafe.Add(ref rows, 2 * steps + j));
            a20 = TSimd.MultiplyAdd(w, x0, a20);
            a21 = TSimd.MultiplyAdd(w, x1, a21);
            w = TSimd.Broadcast(Unsafe.Add(ref rows, 3 * steps + j));
            a30 = TSimd.MultiplyAdd(w, x0, a30);
            a31 = TSimd.MultiplyAdd(w, x1, a31);
        }
        return new Block4x2<TVec>(a00, a01, a10, a11, a20, a21, a30, a31);
    }

    /// <summary>The eight accumulators of a block, row by row.</summary>
    private readonly struct Block4x2<TVec>(TVec a00, TVec a01, TVec a10, TVec a11, TVec a20, TVec a21, TVec a30, TVec a31) where TVec : struct
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public (TVec First, TVec Second) Row(int u) => u switch
        {
            0 => (a00, a01),
            1 => (a10, a11),
            2 => (a20, a21),
            _ => (a30, a31),
        };
    }

    private sealed class Job
    {
        private readonly float[] _padded;
        private readonly float[] _stepBias;
        private readonly Tensor _x;
        private readonly Tensor? _y;
        private readonly SpikeTensor _spikes;
        private readonly int _steps, _perStep, _rowLength, _rowsPerItem, _rows;

        public Job(float[] padded, float[] stepBias, Tensor x, Tensor? y, SpikeTensor spikes, int steps, int rowLength)
        {
            (_padded, _stepBias, _x, _y, _spikes, _steps) = (padded, stepBias, x, y, spikes, steps);
            _perStep = steps == 0 ? 0 : x.Length / steps;
            _rowLength = Math.Max(1, rowLength);
            _rows = _perStep / _rowLength;
            _rowsPerItem = NeuronKernel.RowsPerChunk(_rowLength);
            Items = (_rows + _rowsPerItem - 1) / _rowsPerItem;
            WorkPerItem = (long)_rowsPerItem * _rowLength * steps * steps * 2;
        }

        public int Items { get; }

        public long WorkPerItem { get; }

        public void Run(int item)
        {
            switch (SimdWidth.Bits)
            {
                case 512: Sweep<Simd512, Vector512<float>>(item); break;
                case 256: Sweep<Simd256, Vector256<float>>(item); break;
                default: Sweep<Simd128, Vector128<float>>(item); break;
            }
        }

        private void Sweep<TSimd, TVec>(int item) where TSimd : struct, ISimd<TVec> where TVec : struct
        {
            int steps = _steps, perStep = _perStep, rowLength = _rowLength, count = TSimd.Count;
            int firstRow = item * _rowsPerItem, rows = Math.Min(_rowsPerItem, _rows - firstRow);
            int pairs = rowLength - rowLength % (2 * count);
            // A row's columns past the last whole pair of vectors: their T inputs zero-padded to a pair, and the outputs.
            Span<float> tail = stackalloc float[2 * count * (steps + 1)];
            ref float inputs = ref MemoryMarshal.GetReference(_x.AsReadOnlySpan());
            var ySpan = _y is null ? default : _y.AsSpan();
            ref float outputs = ref MemoryMarshal.GetReference(ySpan);
            bool keep = !ySpan.IsEmpty;
            var words = _spikes.Words;
            int wordsPerRow = SpikeTensor.WordsFor(rowLength);
            ref float matrix = ref MemoryMarshal.GetArrayDataReference(_padded);
            for (int r = firstRow; r < firstRow + rows; r++)
            {
                int rowStart = r * rowLength;
                for (int i = 0; i < pairs; i += 2 * count)
                {
                    ref float column = ref Unsafe.Add(ref inputs, rowStart + i);
                    for (int t0 = 0; t0 < steps; t0 += 4)
                    {
                        var b = Block<TSimd, TVec>(ref Unsafe.Add(ref matrix, t0 * steps), steps, ref column, perStep);
                        for (int u = 0; u < 4 && t0 + u < steps; u++)
                        {
                            int t = t0 + u;
                            var (first, second) = b.Row(u);
                            ref float y = ref Unsafe.Add(ref outputs, t * perStep + rowStart + i);
                            Emit<TSimd, TVec>(first, t, r, i, keep, ref y, words, wordsPerRow, ulong.MaxValue);
                            Emit<TSimd, TVec>(second, t, r, i + count, keep, ref Unsafe.Add(ref y, count), words, wordsPerRow, ulong.MaxValue);
                        }
                    }
                }
                int rest = rowLength - pairs;
                if (rest == 0) continue;
                tail.Clear();
                for (int j = 0; j < steps; j++)
                {
                    MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref inputs, j * perStep + rowStart + pairs), rest).CopyTo(tail.Slice(j * 2 * count, rest));
                }
                var results = tail[(2 * count * steps)..];
                for (int t0 = 0; t0 < steps; t0 += 4)
                {
                    var b = Block<TSimd, TVec>(ref Unsafe.Add(ref matrix, t0 * steps), steps, ref MemoryMarshal.GetReference(tail), 2 * count);
                    for (int u = 0; u < 4 && t0 + u < steps; u++)
                    {
                        int t = t0 + u;
                        var (first, second) = b.Row(u);
                        int inFirst = Math.Min(rest, count), inSecond = rest - inFirst;
                        Emit<TSimd, TVec>(first, t, r, pairs, keep, ref MemoryMarshal.GetReference(results), words, wordsPerRow, Lanes(inFirst));
                        if (inSecond > 0) Emit<TSimd, TVec>(second, t, r, pairs + count, keep, ref results[count], words, wordsPerRow, Lanes(inSecond));
                        if (keep) results[..rest].CopyTo(ySpan.Slice(t * perStep + rowStart + pairs, rest));
                    }
                }
            }
        }

        private static ulong Lanes(int n) => n >= 64 ? ulong.MaxValue : (1UL << n) - 1;

        /// <summary>Adds step t's bias and fires into the spike bits; stores the value when kept.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Emit<TSimd, TVec>(TVec acc, int t, int row, int i, bool keep, ref float destination, Span<ulong> words, int wordsPerRow, ulong lanes)
            where TSimd : struct, ISimd<TVec> where TVec : struct
        {
            acc = TSimd.Add(acc, TSimd.Broadcast(_stepBias[t]));
            // A vector never straddles two words: Count divides 64 and i is a multiple of Count.
            words[(t * _rows + row) * wordsPerRow + (i >> 6)] |= (TSimd.GreaterThanOrEqualMask(acc, TSimd.Zero) & lanes) << (i & 63);
            if (keep) TSimd.Store(acc, ref destination);
        }
    }
}
