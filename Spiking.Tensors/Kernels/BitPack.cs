using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// Packing floats into spike bits with a SIMD compare and most-significant-bit extraction, and unpacking bits
/// back to 0/1 floats. Rows of <c>rowLength</c> floats map to rows of <c>ceil(rowLength/64)</c> words.
/// </summary>
internal static class BitPack
{
    /// <summary>The mask of valid bits in the last word of a row of <paramref name="rowLength"/> bits.</summary>
    public static ulong LastWordMask(int rowLength) => (rowLength & 63) == 0 ? ulong.MaxValue : (1UL << (rowLength & 63)) - 1;

    /// <summary>Packs <c>values[i] &gt;= threshold</c>; <paramref name="words"/> receives every word, padding zeroed.</summary>
    public static void PackGreaterOrEqual(ReadOnlySpan<float> values, int rowLength, float threshold, Span<ulong> words)
    {
        switch (SimdWidth.Bits)
        {
            case 512: Pack<Simd512, Vector512<float>>(values, rowLength, threshold, words); break;
            case 256: Pack<Simd256, Vector256<float>>(values, rowLength, threshold, words); break;
            case 128: Pack<Simd128, Vector128<float>>(values, rowLength, threshold, words); break;
            default: PackReference(values, rowLength, threshold, words); break;
        }
    }

    /// <summary>The plain one-bit-at-a-time packing the SIMD path is tested against.</summary>
    public static void PackReference(ReadOnlySpan<float> values, int rowLength, float threshold, Span<ulong> words)
    {
        int wpr = SpikeTensor.WordsFor(rowLength);
        int rows = rowLength == 0 ? 0 : values.Length / rowLength;
        words[..(rows * wpr)].Clear();
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < rowLength; c++)
            {
                if (values[r * rowLength + c] >= threshold) words[r * wpr + (c >> 6)] |= 1UL << (c & 63);
            }
        }
    }

    private static void Pack<TSimd, TVec>(ReadOnlySpan<float> values, int rowLength, float threshold, Span<ulong> words)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        if (rowLength == 0) return;
        int wpr = SpikeTensor.WordsFor(rowLength);
        int rows = values.Length / rowLength;
        var thr = TSimd.Broadcast(threshold);
        ref float src = ref MemoryMarshal.GetReference(values);
        for (int r = 0; r < rows; r++)
        {
            ref float row = ref Unsafe.Add(ref src, r * rowLength);
            int full = rowLength >> 6;
            for (int w = 0; w < full; w++)
            {
                ulong word = 0;
                ref float chunk = ref Unsafe.Add(ref row, w << 6);
                for (int j = 0; j < 64; j += TSimd.Count)
                {
                    word |= TSimd.GreaterThanOrEqualMask(TSimd.Load(ref Unsafe.Add(ref chunk, j)), thr) << j;
                }
                words[r * wpr + w] = word;
            }
            if (full < wpr)
            {
                ulong word = 0;
                for (int c = full << 6; c < rowLength; c++)
                {
                    if (Unsafe.Add(ref row, c) >= threshold) word |= 1UL << (c & 63);
                }
                words[r * wpr + full] = word;
            }
        }
    }

    /// <summary>Writes 1.0f where a bit is set and 0.0f elsewhere.</summary>
    public static void Unpack(ReadOnlySpan<ulong> words, int rowLength, Span<float> destination)
    {
        switch (SimdWidth.Bits)
        {
            case 512: Unpack<Simd512, Vector512<float>>(words, rowLength, destination); break;
            case 256: Unpack<Simd256, Vector256<float>>(words, rowLength, destination); break;
            case 128: Unpack<Simd128, Vector128<float>>(words, rowLength, destination); break;
            default: UnpackReference(words, rowLength, destination); break;
        }
    }

    /// <summary>The plain one-bit-at-a-time unpacking the SIMD path is tested against.</summary>
    public static void UnpackReference(ReadOnlySpan<ulong> words, int rowLength, Span<float> destination)
    {
        if (rowLength == 0) return;
        int wpr = SpikeTensor.WordsFor(rowLength);
        int rows = destination.Length / rowLength;
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < rowLength; c++)
            {
                destination[r * rowLength + c] = (words[r * wpr + (c >> 6)] >> (c & 63) & 1) != 0 ? 1f : 0f;
            }
        }
    }

    private static void Unpack<TSimd, TVec>(ReadOnlySpan<ulong> words, int rowLength, Span<float> destination)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        if (rowLength == 0) return;
        int wpr = SpikeTensor.WordsFor(rowLength);
        int rows = destination.Length / rowLength;
        ref float dst = ref MemoryMarshal.GetReference(destination);
        uint laneMask = (uint)((1UL << TSimd.Count) - 1);
        for (int r = 0; r < rows; r++)
        {
            ref float row = ref Unsafe.Add(ref dst, r * rowLength);
            int c = 0;
            for (; c + TSimd.Count <= rowLength; c += TSimd.Count)
            {
                uint bits = (uint)(words[r * wpr + (c >> 6)] >> (c & 63)) & laneMask;
                TSimd.Store(TSimd.ExpandBits(bits), ref Unsafe.Add(ref row, c));
            }
            for (; c < rowLength; c++)
            {
                Unsafe.Add(ref row, c) = (words[r * wpr + (c >> 6)] >> (c & 63) & 1) != 0 ? 1f : 0f;
            }
        }
    }
}
