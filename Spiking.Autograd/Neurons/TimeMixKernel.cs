using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// <c>Y = M·X</c> along the time axis of the parallel spiking neurons: M is <c>[T, T]</c> with T small, X is
/// <c>[T, N]</c>. For each vector of columns, every output step is accumulated from the T inputs of that vector (read
/// from L1) in ascending j with multiply-adds from zero: the order of the SGEMM's micro-kernel, so the same bits as
/// <see cref="Gemm.Multiply"/>, without its packing and its six-row tiles, which cost more than the product itself at
/// T ≤ 16 (12 rows computed for T = 8). The forward fires in the same pass: <c>h = M·X + b_t ≥ 0</c> straight into
/// bits, h kept only when the backward or a trace needs it. Work items are blocks of whole rows, fixed by the shape.
/// The backward's <c>dL/dX = Wᵀ·dL/dH</c> runs block by block inside the gradient sweep (<see cref="MultiplyBlock"/>),
/// while <c>dL/dH</c> is still in that sweep's buffer.
/// </summary>
internal static class TimeMixKernel
{
    /// <summary><c>h = M·X + b</c> per step into <paramref name="spikes"/> (<c>h ≥ 0</c>), and into <paramref name="h"/> when given.</summary>
    public static void MultiplyAndFire(float[] matrix, float[] stepBias, Tensor x, Tensor? h, SpikeTensor spikes, int steps)
    {
        var job = new Job(matrix, stepBias, x, h, spikes, steps, x.Shape.LastDimension);
        Parallelism.For(job.Items, job.WorkPerItem, job, static (item, j) => j.Run(item));
    }

    /// <summary>
    /// <c>Y[·, at..at+columns] = M·X</c> for a block of X staged row after row <paramref name="stride"/> floats apart
    /// (zero-padded to whole vectors), written into the rows of <paramref name="y"/> (<paramref name="perStep"/> apart).
    /// </summary>
    public static void MultiplyBlock<TSimd, TVec>(float[] matrix, int steps, ReadOnlySpan<float> x, int stride, Span<float> y, int perStep, int at, int columns)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int count = TSimd.Count, full = columns - columns % count;
        ref float m = ref MemoryMarshal.GetArrayDataReference(matrix);
        ref float source = ref MemoryMarshal.GetReference(x);
        ref float destination = ref MemoryMarshal.GetReference(y);
        Span<float> lanes = stackalloc float[count];
        for (int t = 0; t < steps; t++)
        {
            ref float row = ref Unsafe.Add(ref m, t * steps);
            int i = 0;
            for (; i < full; i += count)
            {
                TSimd.Store(Job.Mix<TSimd, TVec>(ref row, ref Unsafe.Add(ref source, i), stride, steps), ref Unsafe.Add(ref destination, t * perStep + at + i));
            }
            if (i == columns) continue;
            TSimd.Store(Job.Mix<TSimd, TVec>(ref row, ref Unsafe.Add(ref source, i), stride, steps), ref MemoryMarshal.GetReference(lanes));
            lanes[..(columns - i)].CopyTo(y.Slice(t * perStep + at + i, columns - i));
        }
    }

    private sealed class Job
    {
        private readonly float[] _matrix;
        private readonly float[] _stepBias;
        private readonly Tensor _x;
        private readonly Tensor? _y;
        private readonly SpikeTensor _spikes;
        private readonly int _steps, _perStep, _rowLength, _rowsPerItem, _rows;

        public Job(float[] matrix, float[] stepBias, Tensor x, Tensor? y, SpikeTensor spikes, int steps, int rowLength)
        {
            (_matrix, _stepBias, _x, _y, _spikes, _steps) = (matrix, stepBias, x, y, spikes, steps);
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
            int full = rowLength - rowLength % count, rest = rowLength - full;
            // A row's last partial vector: its T inputs zero-padded, and its T outputs.
            Span<float> tail = stackalloc float[2 * steps * count];
            tail.Clear();
            ref float inputs = ref MemoryMarshal.GetReference(_x.AsReadOnlySpan());
            var ySpan = _y is null ? default : _y.AsSpan();
            ref float outputs = ref MemoryMarshal.GetReference(ySpan);
            bool keep = !ySpan.IsEmpty;
            var words = _spikes.Words;
            int wordsPerRow = SpikeTensor.WordsFor(rowLength);
            ref float matrix = ref MemoryMarshal.GetArrayDataReference(_matrix);
            int quads = rowLength - rowLength % (4 * count);
            for (int r = firstRow; r < firstRow + rows; r++)
            {
                int rowStart = r * rowLength;
                int i = 0;
                // Four vectors of columns at a time: one broadcast of M[t, j] serves four multiply-adds, and the four
                // accumulators do not wait on each other.
                for (; i < quads; i += 4 * count)
                {
                    ref float column = ref Unsafe.Add(ref inputs, rowStart + i);
                    for (int t = 0; t < steps; t++)
                    {
                        ref float m = ref Unsafe.Add(ref matrix, t * steps);
                        TVec a0 = TSimd.Zero, a1 = TSimd.Zero, a2 = TSimd.Zero, a3 = TSimd.Zero;
                        for (int j = 0; j < steps; j++)
                        {
                            var w = TSimd.Broadcast(Unsafe.Add(ref m, j));
                            ref float xj = ref Unsafe.Add(ref column, j * perStep);
                            a0 = TSimd.MultiplyAdd(w, TSimd.Load(ref xj), a0);
                            a1 = TSimd.MultiplyAdd(w, TSimd.Load(ref Unsafe.Add(ref xj, count)), a1);
                            a2 = TSimd.MultiplyAdd(w, TSimd.Load(ref Unsafe.Add(ref xj, 2 * count)), a2);
                            a3 = TSimd.MultiplyAdd(w, TSimd.Load(ref Unsafe.Add(ref xj, 3 * count)), a3);
                        }
                        ref float y = ref Unsafe.Add(ref outputs, t * perStep + rowStart + i);
                        Emit<TSimd, TVec>(a0, t, r, i, keep, ref y, words, wordsPerRow, ulong.MaxValue);
                        Emit<TSimd, TVec>(a1, t, r, i + count, keep, ref Unsafe.Add(ref y, count), words, wordsPerRow, ulong.MaxValue);
                        Emit<TSimd, TVec>(a2, t, r, i + 2 * count, keep, ref Unsafe.Add(ref y, 2 * count), words, wordsPerRow, ulong.MaxValue);
                        Emit<TSimd, TVec>(a3, t, r, i + 3 * count, keep, ref Unsafe.Add(ref y, 3 * count), words, wordsPerRow, ulong.MaxValue);
                    }
                }
                for (; i < full; i += count)
                {
                    ref float column = ref Unsafe.Add(ref inputs, rowStart + i);
                    for (int t = 0; t < steps; t++)
                    {
                        var acc = Mix<TSimd, TVec>(ref Unsafe.Add(ref matrix, t * steps), ref column, perStep, steps);
                        Emit<TSimd, TVec>(acc, t, r, i, keep, ref Unsafe.Add(ref outputs, t * perStep + rowStart + i), words, wordsPerRow, ulong.MaxValue);
                    }
                }
                if (rest == 0) continue;
                ref float padded = ref MemoryMarshal.GetReference(tail);
                for (int j = 0; j < steps; j++)
                {
                    MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref inputs, j * perStep + rowStart + full), rest).CopyTo(tail.Slice(j * count, rest));
                }
                ref float results = ref tail[steps * count];
                for (int t = 0; t < steps; t++)
                {
                    var acc = Mix<TSimd, TVec>(ref Unsafe.Add(ref matrix, t * steps), ref padded, count, steps);
                    Emit<TSimd, TVec>(acc, t, r, full, keep, ref Unsafe.Add(ref results, t * count), words, wordsPerRow, (1UL << rest) - 1);
                    if (keep) tail.Slice(steps * count + t * count, rest).CopyTo(ySpan.Slice(t * perStep + rowStart + full, rest));
                }
            }
        }

        /// <summary><c>Σ_j M[t, j]·X[j]</c> for one vector of columns, from zero in ascending j (the SGEMM's order).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static TVec Mix<TSimd, TVec>(ref float row, ref float column, int stride, int steps) where TSimd : struct, ISimd<TVec> where TVec : struct
        {
            var acc = TSimd.Zero;
            for (int j = 0; j < steps; j++)
            {
                acc = TSimd.MultiplyAdd(TSimd.Broadcast(Unsafe.Add(ref row, j)), TSimd.Load(ref Unsafe.Add(ref column, j * stride)), acc);
            }
            return acc;
        }

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
