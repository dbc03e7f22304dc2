using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd;

/// <summary>
/// The forward of <see cref="Functional.Multispike"/> over a flat tensor in one pass: <c>y = count/divisor</c> with
/// the count of <see cref="MultiLevelSpike.Count"/>, and the gradient window of <see cref="MultiLevelSpike.InWindow"/>
/// packed as bits (bit i of the flat order). Blocks of <see cref="BlockLength"/> values, fixed by the length, run in
/// parallel; a block's last partial vector runs zero-padded through the same code (a zero has count 0 and lies
/// outside the window, so the padding sets no bit). <see cref="ForwardReference"/> is the value-at-a-time form.
/// </summary>
internal static class MultispikeKernel
{
    /// <summary>Values per block: whole words of bits and a multiple of every vector width.</summary>
    private const int BlockLength = 4096;

    public static void Forward(Tensor x, float divisor, Tensor y, SpikeTensor window)
    {
        var job = new Job(x, divisor, y, window);
        Parallelism.For(job.Blocks, BlockLength * 8L, job, static (b, j) => j.Run(b));
    }

    /// <summary>The plain loop the vector kernel is tested against.</summary>
    public static void ForwardReference(ReadOnlySpan<float> x, float divisor, Span<float> y, Span<ulong> window)
    {
        window.Clear();
        for (int i = 0; i < x.Length; i++)
        {
            y[i] = MultiLevelSpike.Count(x[i]) / divisor;
            if (MultiLevelSpike.InWindow(x[i])) window[i >> 6] |= 1UL << (i & 63);
        }
    }

    /// <summary>
    /// The vector loop over <paramref name="x"/>, whose window bits are OR-ed into <paramref name="window"/> (cleared by
    /// the caller) from its bit 0, so a block starts on a word; the last partial vector runs zero-padded.
    /// </summary>
    internal static void Sweep<TSimd, TVec>(ReadOnlySpan<float> x, float divisor, Span<float> y, Span<ulong> window)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int count = TSimd.Count, full = x.Length - x.Length % count;
        var d = TSimd.Broadcast(divisor);
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ys = ref MemoryMarshal.GetReference(y);
        for (int i = 0; i < full; i += count)
        {
            window[i >> 6] |= Vector<TSimd, TVec>(TSimd.Load(ref Unsafe.Add(ref xs, i)), d, ref Unsafe.Add(ref ys, i)) << (i & 63);
        }
        if (full == x.Length) return;
        Span<float> lanes = stackalloc float[count];
        lanes.Clear();
        x[full..].CopyTo(lanes);
        ref float lane = ref MemoryMarshal.GetReference(lanes);
        window[full >> 6] |= Vector<TSimd, TVec>(TSimd.Load(ref lane), d, ref lane) << (full & 63);
        lanes[..(x.Length - full)].CopyTo(y[full..]);
    }

    /// <summary>One vector: stores <c>count/divisor</c> at <paramref name="y"/> and returns the window bits of its lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Vector<TSimd, TVec>(TVec x, TVec divisor, ref float y) where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        var top = TSimd.Broadcast(MultiLevelSpike.MaxCount);
        var t = TSimd.Add(TSimd.Min(TSimd.Max(TSimd.Multiply(x, TSimd.Broadcast(MultiLevelSpike.InputScale)), TSimd.Zero), top), TSimd.Broadcast(0.5f));
        // floor(t) for t in [0.5, 4.5]: the nearest integer, one less where that lies above t.
        var nearest = TSimd.Round(t);
        var count = TSimd.Subtract(nearest, TSimd.BitwiseAnd(TSimd.GreaterThan(nearest, t), TSimd.One));
        TSimd.Store(TSimd.Divide(count, divisor), ref y);
        return TSimd.GreaterThanOrEqualMask(x, TSimd.Broadcast(float.Epsilon)) & ~TSimd.GreaterThanOrEqualMask(x, TSimd.One);
    }

    private sealed class Job(Tensor x, float divisor, Tensor y, SpikeTensor window)
    {
        public int Blocks { get; } = Parallelism.ChunkCount(x.Length, BlockLength);

        public void Run(int block)
        {
            int start = block * BlockLength, length = Math.Min(BlockLength, x.Length - start);
            var xs = x.AsReadOnlySpan().Slice(start, length);
            var ys = y.AsSpan().Slice(start, length);
            var words = window.Words.Slice(start >> 6, SpikeTensor.WordsFor(length));
            switch (SimdWidth.Bits)
            {
                case 512: Sweep<Simd512, Vector512<float>>(xs, divisor, ys, words); break;
                case 256: Sweep<Simd256, Vector256<float>>(xs, divisor, ys, words); break;
                default: Sweep<Simd128, Vector128<float>>(xs, divisor, ys, words); break;
            }
        }
    }
}
