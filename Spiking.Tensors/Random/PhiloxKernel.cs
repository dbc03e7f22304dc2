using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Spiking.Tensors;

/// <summary>
/// Streams of Philox4x32-10 words: word <c>k</c> of a fill is word <c>k % 4</c> of the block whose counter is
/// <c>(firstBlock + k / 4, stream)</c> (block index in counter words 0–1, stream in words 2–3). The AVX2 path
/// runs eight counters per vector; the scalar reference is the definition it is tested against.
/// </summary>
internal static class PhiloxKernel
{
    private const int BlocksPerVector = 8;
    private const int WordsPerGroup = 4 * BlocksPerVector;

    /// <summary>Fills <paramref name="words"/> with the words of consecutive blocks from <paramref name="firstBlock"/>.</summary>
    public static void Fill(uint key0, uint key1, ulong stream, ulong firstBlock, Span<uint> words)
    {
        int done = 0;
        if (Avx2.IsSupported)
        {
            done = words.Length / WordsPerGroup * WordsPerGroup;
            FillAvx2(key0, key1, stream, firstBlock, words[..done]);
        }
        FillReference(key0, key1, stream, firstBlock + (ulong)(done / 4), words[done..]);
    }

    /// <summary>The one-block-at-a-time definition of <see cref="Fill"/>.</summary>
    public static void FillReference(uint key0, uint key1, ulong stream, ulong firstBlock, Span<uint> words)
    {
        for (int k = 0; k < words.Length; k += 4)
        {
            ulong block = firstBlock + (ulong)(k / 4);
            var r = Philox4x32.Generate((uint)block, (uint)(block >> 32), (uint)stream, (uint)(stream >> 32), key0, key1);
            words[k] = r.X0;
            if (k + 1 < words.Length) words[k + 1] = r.X1;
            if (k + 2 < words.Length) words[k + 2] = r.X2;
            if (k + 3 < words.Length) words[k + 3] = r.X3;
        }
    }

    /// <summary>
    /// Fills whole groups of 32 words, eight blocks per vector, transposed back to block order. Two groups run
    /// interleaved because one alone is bound by the latency of the multiply chain through the rounds.
    /// </summary>
    private static void FillAvx2(uint key0, uint key1, ulong stream, ulong firstBlock, Span<uint> words)
    {
        ref uint dst = ref MemoryMarshal.GetReference(words);
        var lanes = Vector256.Create(0u, 1u, 2u, 3u, 4u, 5u, 6u, 7u);
        var m0 = Vector256.Create(Philox4x32.Multiplier0);
        var m1 = Vector256.Create(Philox4x32.Multiplier1);
        var w0 = Vector256.Create(Philox4x32.Weyl0);
        var w1 = Vector256.Create(Philox4x32.Weyl1);
        var s0 = Vector256.Create((uint)stream);
        var s1 = Vector256.Create((uint)(stream >> 32));
        int k = 0;
        for (; k + 2 * WordsPerGroup <= words.Length; k += 2 * WordsPerGroup)
        {
            ulong block = firstBlock + (ulong)(k / 4);
            var (a0, a1) = Counters(block, lanes);
            var (b0, b1) = Counters(block + BlocksPerVector, lanes);
            Vector256<uint> a2 = s0, a3 = s1, b2 = s0, b3 = s1;
            var k0 = Vector256.Create(key0);
            var k1 = Vector256.Create(key1);
            for (int round = 0; round < Philox4x32.Rounds; round++)
            {
                Round(ref a0, ref a1, ref a2, ref a3, k0, k1, m0, m1);
                Round(ref b0, ref b1, ref b2, ref b3, k0, k1, m0, m1);
                k0 += w0;
                k1 += w1;
            }
            StoreTransposed(a0, a1, a2, a3, ref Unsafe.Add(ref dst, k));
            StoreTransposed(b0, b1, b2, b3, ref Unsafe.Add(ref dst, k + WordsPerGroup));
        }
        if (k < words.Length)
        {
            var (a0, a1) = Counters(firstBlock + (ulong)(k / 4), lanes);
            Vector256<uint> a2 = s0, a3 = s1;
            var k0 = Vector256.Create(key0);
            var k1 = Vector256.Create(key1);
            for (int round = 0; round < Philox4x32.Rounds; round++)
            {
                Round(ref a0, ref a1, ref a2, ref a3, k0, k1, m0, m1);
                k0 += w0;
                k1 += w1;
            }
            StoreTransposed(a0, a1, a2, a3, ref Unsafe.Add(ref dst, k));
        }
    }

    /// <summary>Counter words 0–1 of the eight blocks from <paramref name="block"/>, carrying where the low word wraps.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<uint> Low, Vector256<uint> High) Counters(ulong block, Vector256<uint> lanes)
    {
        var first = Vector256.Create((uint)block);
        var low = first + lanes;
        // The all-ones compare mask is -1, so subtracting it adds the carry.
        var high = Vector256.Create((uint)(block >> 32)) - Vector256.LessThan(low, first);
        return (low, high);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Round(
        ref Vector256<uint> x0, ref Vector256<uint> x1, ref Vector256<uint> x2, ref Vector256<uint> x3,
        Vector256<uint> key0, Vector256<uint> key1, Vector256<uint> m0, Vector256<uint> m1)
    {
        var (hi0, lo0) = MultiplyWide(x0, m0);
        var (hi1, lo1) = MultiplyWide(x2, m1);
        x0 = hi1 ^ x1 ^ key0;
        x1 = lo1;
        x2 = hi0 ^ x3 ^ key1;
        x3 = lo0;
    }

    /// <summary>The high and low halves of the eight 32×32→64-bit products; vpmuludq covers the even lanes, so the odd ones are shifted down first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<uint> High, Vector256<uint> Low) MultiplyWide(Vector256<uint> x, Vector256<uint> multiplier)
    {
        var even = Avx2.Multiply(x, multiplier).AsUInt32();
        var odd = Avx2.Multiply(Avx2.ShiftRightLogical(x.AsUInt64(), 32).AsUInt32(), multiplier).AsUInt32();
        var high = Avx2.Blend(Avx2.ShiftRightLogical(even.AsUInt64(), 32).AsUInt32(), odd, 0b1010_1010);
        var low = Avx2.Blend(even, Avx2.ShiftLeftLogical(odd.AsUInt64(), 32).AsUInt32(), 0b1010_1010);
        return (high, low);
    }

    /// <summary>Writes word w of lane b at <c>4b + w</c>: a 4×8 transpose by 32- and 64-bit unpacks and a 128-bit lane swap.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreTransposed(Vector256<uint> x0, Vector256<uint> x1, Vector256<uint> x2, Vector256<uint> x3, ref uint destination)
    {
        var t0 = Avx2.UnpackLow(x0, x1);
        var t1 = Avx2.UnpackHigh(x0, x1);
        var t2 = Avx2.UnpackLow(x2, x3);
        var t3 = Avx2.UnpackHigh(x2, x3);
        var s0 = Avx2.UnpackLow(t0.AsUInt64(), t2.AsUInt64()).AsUInt32();
        var s1 = Avx2.UnpackHigh(t0.AsUInt64(), t2.AsUInt64()).AsUInt32();
        var s2 = Avx2.UnpackLow(t1.AsUInt64(), t3.AsUInt64()).AsUInt32();
        var s3 = Avx2.UnpackHigh(t1.AsUInt64(), t3.AsUInt64()).AsUInt32();
        Avx2.Permute2x128(s0, s1, 0x20).StoreUnsafe(ref destination);
        Avx2.Permute2x128(s2, s3, 0x20).StoreUnsafe(ref destination, 8);
        Avx2.Permute2x128(s0, s1, 0x31).StoreUnsafe(ref destination, 16);
        Avx2.Permute2x128(s2, s3, 0x31).StoreUnsafe(ref destination, 24);
    }
}
