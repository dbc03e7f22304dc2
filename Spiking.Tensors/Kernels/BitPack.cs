using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// Packing floats into spike bits with a SIMD compare and most-significant-bit extraction, and unpacking bits
/// back to 0/1 floats or 0/1 bytes. Rows of <c>rowLength</c> floats map to rows of <c>ceil(rowLength/64)</c> words.
/// </summary>
internal static class BitPack
{
    /// <summary>Entry b: the eight bits of b as eight 0/1 bytes, bit 0 first (little-endian).</summary>
    private static readonly ulong[] s_byteSpread = SpreadTable();

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

    /// <summary>
    /// Writes byte 1 where a bit is set and 0 elsewhere, row r of <paramref name="rows"/> at <c>r·stride</c> in
    /// <paramref name="destination"/>, the bytes from <paramref name="rowLength"/> to <paramref name="stride"/> zeroed:
    /// eight bits at a time through a 256-entry table (one load and one 8-byte store per byte of bits).
    /// </summary>
    public static unsafe void UnpackBytes(ReadOnlySpan<ulong> words, int rows, int rowLength, Span<byte> destination, int stride)
    {
        int wpr = SpikeTensor.WordsFor(rowLength);
        fixed (ulong* table = s_byteSpread)
        fixed (byte* dst = destination)
        {
            for (int r = 0; r < rows; r++)
            {
                byte* row = dst + (long)r * stride;
                var bits = words.Slice(r * wpr, wpr);
                int c = 0;
                for (; c + 8 <= rowLength; c += 8) Unsafe.WriteUnaligned(row + c, table[(bits[c >> 6] >> (c & 63)) & 0xFF]);
                for (; c < rowLength; c++) row[c] = (byte)(bits[c >> 6] >> (c & 63) & 1);
                new Span<byte>(row + rowLength, stride - rowLength).Clear();
            }
        }
    }

    private static ulong[] SpreadTable()
    {
        var table = new ulong[256];
        for (int b = 0; b < 256; b++)
        {
            for (int j = 0; j < 8; j++) table[b] |= (ulong)((b >> j) & 1) << (8 * j);
        }
        return table;
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
