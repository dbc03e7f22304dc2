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
/// </summary>
internal static class TimeMixKernel
{
    /// <summary><c>h = M·X + b</c> per step into <paramref name="spikes"/> (<c>h ≥ 0</c>), and into <paramref name="h"/> when given.</summary>
    public static void MultiplyAndFire(float[] matrix, float[] stepBias, Tensor x, Tensor? h, SpikeTensor spikes, int steps)
    {
        var job = new Job(matrix, stepBias, x, h, spikes, steps, x.Shape.LastDimension);
        Parallelism.For(job.Items, job.WorkPerItem, job, static (item, j) => j.Run(item));
    }

    /// <summary><c>Y = M·X</c> (no bias, no spikes), e.g. <c>dL/dX = Wᵀ·dL/dH</c> with <paramref name="matrix"/> already transposed.</summary>
    public static void Multiply(float[] matrix, Tensor x, Tensor y, int steps)
    {
        var job = new Job(matrix, null, x, y, null, steps, x.Shape.LastDimension);
        Parallelism.For(job.Items, job.WorkPerItem, job, static (item, j) => j.Run(item));
    }

    private sealed class Job
    {
        private readonly float[] _matrix;
        private readonly float[]? _stepBias;
        private readonly Tensor _x;
        private readonly Tensor? _y;
        private readonly SpikeTensor? _spikes;
        private readonly int _steps, _perStep, _rowLength, _rowsPerItem, _rows;

        public Job(float[] matrix, float[]? stepBias, Tensor x, Tensor? y, SpikeTensor? spikes, int steps, int rowLength)
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
            var words = _spikes is null ? default : _spikes.Words;
            int wordsPerRow = SpikeTensor.WordsFor(rowLength);
            ref float matrix = ref MemoryMarshal.GetArrayDataReference(_matrix);
            for (int r = firstRow; r < firstRow + rows; r++)
            {
                int rowStart = r * rowLength;
                for (int i = 0; i < full; i += count)
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
        private static TVec Mix<TSimd, TVec>(ref float row, ref float column, int stride, int steps) where TSimd : struct, ISimd<TVec> where TVec : struct
        {
            var acc = TSimd.Zero;
            for (int j = 0; j < steps; j++)
            {
                acc = TSimd.MultiplyAdd(TSimd.Broadcast(Unsafe.Add(ref row, j)), TSimd.Load(ref Unsafe.Add(ref column, j * stride)), acc);
            }
            return acc;
        }

        /// <summary>Adds step t's bias and fires into the spike bits when there are spikes; stores the value when kept.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Emit<TSimd, TVec>(TVec acc, int t, int row, int i, bool keep, ref float destination, Span<ulong> words, int wordsPerRow, ulong lanes)
            where TSimd : struct, ISimd<TVec> where TVec : struct
        {
            if (_stepBias is not null)
            {
                acc = TSimd.Add(acc, TSimd.Broadcast(_stepBias[t]));
                // A vector never straddles two words: Count divides 64 and i is a multiple of Count.
                words[(t * _rows + row) * wordsPerRow + (i >> 6)] |= (TSimd.GreaterThanOrEqualMask(acc, TSimd.Zero) & lanes) << (i & 63);
            }
            if (keep) TSimd.Store(acc, ref destination);
        }
    }
}
