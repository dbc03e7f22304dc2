using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Spiking.Tensors;

/// <summary>
/// Turns Philox words into uniforms and spikes. Each output depends only on its own word, and the SIMD and
/// scalar forms compute exactly the same float operations, so a value never depends on where a fill was split
/// into chunks or vectors. Normals are in <see cref="BoxMuller"/>.
/// </summary>
internal static class PhiloxTransforms
{
    /// <summary>2^-24: the top 24 bits of a word scaled to [0, 1) are exact in float.</summary>
    private const float Scale = 1f / 16777216f;

    /// <summary>The uniform in [0, 1) made from the top 24 bits of <paramref name="word"/>; 1.0 is never produced.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Uniform(uint word) => (word >> 8) * Scale;

    /// <summary>
    /// Whether a neuron with firing probability <paramref name="probability"/> spikes: <c>u &lt;= p</c> as in
    /// SpikingJelly's PoissonEncoder, except that <c>p &lt;= 0</c> (and NaN) never spikes even when u is exactly 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Spike(uint word, float probability) => probability > 0f && Uniform(word) <= probability;

    /// <summary>Writes <c>Uniform(words[i])</c> to <c>destination[i]</c>.</summary>
    public static void ToUniform(ReadOnlySpan<uint> words, Span<float> destination)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref uint src = ref MemoryMarshal.GetReference(words);
            ref float dst = ref MemoryMarshal.GetReference(destination);
            var scale = Vector256.Create(Scale);
            for (; i + Vector256<uint>.Count <= words.Length; i += Vector256<uint>.Count)
            {
                var top = Vector256.ShiftRightLogical(Vector256.LoadUnsafe(ref src, (nuint)i), 8).AsInt32();
                (Vector256.ConvertToSingle(top) * scale).StoreUnsafe(ref dst, (nuint)i);
            }
        }
        for (; i < words.Length; i++) destination[i] = Uniform(words[i]);
    }

    /// <summary>Packs <c>Spike(words[i], probabilities[i])</c> for i in [0, 64) into one word, bit i for element i.</summary>
    public static ulong PackSpikes64(ReadOnlySpan<uint> words, ReadOnlySpan<float> probabilities)
    {
        if (!Vector256.IsHardwareAccelerated) return PackSpikes(words, probabilities, 64);
        ref uint src = ref MemoryMarshal.GetReference(words);
        ref float p = ref MemoryMarshal.GetReference(probabilities);
        var scale = Vector256.Create(Scale);
        ulong packed = 0;
        for (int j = 0; j < 64; j += Vector256<float>.Count)
        {
            var top = Vector256.ShiftRightLogical(Vector256.LoadUnsafe(ref src, (nuint)j), 8).AsInt32();
            var u = Vector256.ConvertToSingle(top) * scale;
            var pv = Vector256.LoadUnsafe(ref p, (nuint)j);
            var spike = Vector256.LessThanOrEqual(u, pv) & Vector256.GreaterThan(pv, Vector256<float>.Zero);
            packed |= (ulong)spike.ExtractMostSignificantBits() << j;
        }
        return packed;
    }

    /// <summary>Packs the first <paramref name="count"/> (at most 64) spikes one at a time; the bits above stay zero.</summary>
    public static ulong PackSpikes(ReadOnlySpan<uint> words, ReadOnlySpan<float> probabilities, int count)
    {
        ulong packed = 0;
        for (int j = 0; j < count; j++)
        {
            if (Spike(words[j], probabilities[j])) packed |= 1UL << j;
        }
        return packed;
    }
}
