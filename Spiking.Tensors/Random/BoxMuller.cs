using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Spiking.Tensors;

/// <summary>
/// Normals from pairs of Philox words by the Box–Muller transform, with a float log and sine/cosine of our own
/// (the Cephes <c>logf</c>, <c>sinf</c> and <c>cosf</c> polynomials, about 1 ulp). Both the scalar and the vector
/// forms do the same IEEE float operations in the same order, with no fused multiply-add, so a normal has the
/// same bits whichever path computed it (and, as .NET does not contract multiply-adds, on any machine); the
/// BCL's vector log and sin/cos neither match the scalar ones bit for bit nor run fast (2.6 and 8 ns a lane).
/// </summary>
internal static class BoxMuller
{
    private const float Scale = 1f / 16777216f;
    private const float SqrtHalf = 0.707106781186547524f;
    private const float Ln2High = 0.693359375f;
    private const float Ln2Low = -2.12194440e-4f;

    /// <summary>One quarter turn in units of the 24-bit angle word, and π/2 per unit of it.</summary>
    private const int QuarterTurn = 1 << 22;
    private const float AngleScale = MathF.PI / 2f / QuarterTurn;

    /// <summary>
    /// The pair from two words: <c>r = std * sqrt(-2 ln u1)</c> with <c>u1 = ((word1 &gt;&gt; 8) + 1) / 2^24</c> in
    /// (0, 1], so the log is finite, and angle <c>2π (word2 &gt;&gt; 8) / 2^24</c>. The first output uses the cosine,
    /// the second the sine.
    /// </summary>
    public static (float First, float Second) Pair(uint word1, uint word2, float mean, float std)
    {
        float u1 = (int)((word1 >> 8) + 1) * Scale;
        float r = MathF.Sqrt(-2f * Log(u1)) * std;
        var (sin, cos) = SinCosTurn((int)(word2 >> 8));
        return (mean + r * cos, mean + r * sin);
    }

    /// <summary>
    /// Writes normals: outputs <c>2k</c> and <c>2k + 1</c> come from words <c>2k</c> and <c>2k + 1</c>;
    /// <paramref name="words"/> holds a whole number of pairs, and an odd last output takes the first of its pair.
    /// </summary>
    public static void Fill(ReadOnlySpan<uint> words, Span<float> destination, float mean, float std)
    {
        int k = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref uint src = ref MemoryMarshal.GetReference(words);
            ref float dst = ref MemoryMarshal.GetReference(destination);
            for (; k + 2 * Vector256<float>.Count <= destination.Length; k += 2 * Vector256<float>.Count)
            {
                Pairs(ref Unsafe.Add(ref src, k), ref Unsafe.Add(ref dst, k), mean, std);
            }
        }
        FillScalar(words[k..], destination[k..], mean, std);
    }

    /// <summary>Every output from the scalar <see cref="Pair"/>: the reference the vector path must match bit for bit.</summary>
    public static void FillScalar(ReadOnlySpan<uint> words, Span<float> destination, float mean, float std)
    {
        int k = 0;
        for (; k + 1 < destination.Length; k += 2)
        {
            (destination[k], destination[k + 1]) = Pair(words[k], words[k + 1], mean, std);
        }
        if (k < destination.Length) destination[k] = Pair(words[k], words[k + 1], mean, std).First;
    }

    /// <summary>The natural log of a positive normal float: Cephes <c>logf</c>.</summary>
    internal static float Log(float x)
    {
        int bits = BitConverter.SingleToInt32Bits(x);
        int e = (bits >> 23) - 126;
        float m = BitConverter.Int32BitsToSingle(bits & 0x007FFFFF | 0x3F000000);
        bool small = m < SqrtHalf;
        if (small) e--;
        float f = small ? m + m - 1f : m - 1f;
        float z = f * f;
        float y = LogPolynomial(f) * f * z;
        float fe = e;
        y += Ln2Low * fe;
        y += -0.5f * z;
        return f + y + Ln2High * fe;
    }

    /// <summary>
    /// Sine and cosine of <c>2π angle / 2^24</c> for a 24-bit <paramref name="angle"/>. The reduction to
    /// [-π/4, π/4] is exact integer arithmetic, so only the final scaling and the polynomials round.
    /// </summary>
    internal static (float Sin, float Cos) SinCosTurn(int angle)
    {
        int quadrant = (angle + QuarterTurn / 2) >> 22;
        float x = (angle - (quadrant << 22)) * AngleScale;
        float z = x * x;
        float s = SinPolynomial(z) * z * x + x;
        float c = CosPolynomial(z) * z * z + -0.5f * z + 1f;
        float sin = (quadrant & 1) != 0 ? c : s;
        float cos = (quadrant & 1) != 0 ? s : c;
        if ((quadrant & 2) != 0) sin = -sin;
        if (((quadrant + 1) & 2) != 0) cos = -cos;
        return (sin, cos);
    }

    /// <summary>Sixteen outputs from eight word pairs, the vector image of <see cref="Pair"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pairs(ref uint words, ref float destination, float mean, float std)
    {
        // Word pairs read as ulongs: the low halves are the first words, the high halves the second.
        var lo = Vector256.LoadUnsafe(ref words).AsUInt64();
        var hi = Vector256.LoadUnsafe(ref words, 8).AsUInt64();
        var first = Vector256.Narrow(lo, hi);
        var second = Vector256.Narrow(Vector256.ShiftRightLogical(lo, 32), Vector256.ShiftRightLogical(hi, 32));
        var u1 = Vector256.ConvertToSingle((Vector256.ShiftRightLogical(first, 8) + Vector256<uint>.One).AsInt32()) * Vector256.Create(Scale);
        var r = Vector256.Sqrt(Vector256.Create(-2f) * Log(u1)) * Vector256.Create(std);
        var (sin, cos) = SinCosTurn(Vector256.ShiftRightLogical(second, 8).AsInt32());
        var m = Vector256.Create(mean);
        var c = (m + r * cos).AsUInt32();
        var s = (m + r * sin).AsUInt32();
        // Interleave back to pair order: each ulong lane holds a cosine output below its sine output.
        (Vector256.WidenLower(c) | Vector256.WidenLower(s) << 32).AsSingle().StoreUnsafe(ref destination);
        (Vector256.WidenUpper(c) | Vector256.WidenUpper(s) << 32).AsSingle().StoreUnsafe(ref destination, 8);
    }

    /// <summary>The vector image of <see cref="Log(float)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Log(Vector256<float> x)
    {
        var bits = x.AsInt32();
        var e = Vector256.ShiftRightArithmetic(bits, 23) - Vector256.Create(126);
        var m = (bits & Vector256.Create(0x007FFFFF) | Vector256.Create(0x3F000000)).AsSingle();
        var small = Vector256.LessThan(m, Vector256.Create(SqrtHalf));
        e += small.AsInt32();
        var f = Vector256.ConditionalSelect(small, m + m - Vector256<float>.One, m - Vector256<float>.One);
        var z = f * f;
        var y = LogPolynomial(f) * f * z;
        var fe = Vector256.ConvertToSingle(e);
        y += Vector256.Create(Ln2Low) * fe;
        y += Vector256.Create(-0.5f) * z;
        return f + y + Vector256.Create(Ln2High) * fe;
    }

    /// <summary>The vector image of <see cref="SinCosTurn(int)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float> Sin, Vector256<float> Cos) SinCosTurn(Vector256<int> angle)
    {
        var quadrant = Vector256.ShiftRightArithmetic(angle + Vector256.Create(QuarterTurn / 2), 22);
        var x = Vector256.ConvertToSingle(angle - Vector256.ShiftLeft(quadrant, 22)) * Vector256.Create(AngleScale);
        var z = x * x;
        var s = SinPolynomial(z) * z * x + x;
        var c = CosPolynomial(z) * z * z + Vector256.Create(-0.5f) * z + Vector256<float>.One;
        var swap = Vector256.Equals(quadrant & Vector256<int>.One, Vector256<int>.One).AsSingle();
        var sin = Vector256.ConditionalSelect(swap, c, s);
        var cos = Vector256.ConditionalSelect(swap, s, c);
        // Bit 1 of the quadrant (of quadrant + 1 for the cosine) moved to the sign bit negates.
        sin ^= Vector256.ShiftLeft(quadrant & Vector256.Create(2), 30).AsSingle();
        cos ^= Vector256.ShiftLeft(quadrant + Vector256<int>.One & Vector256.Create(2), 30).AsSingle();
        return (sin, cos);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float LogPolynomial(float x) =>
        ((((((((7.0376836292E-2f * x - 1.1514610310E-1f) * x + 1.1676998740E-1f) * x - 1.2420140846E-1f) * x
        + 1.4249322787E-1f) * x - 1.6668057665E-1f) * x + 2.0000714765E-1f) * x - 2.4999993993E-1f) * x + 3.3333331174E-1f);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> LogPolynomial(Vector256<float> x) =>
        ((((((((Vector256.Create(7.0376836292E-2f) * x - Vector256.Create(1.1514610310E-1f)) * x + Vector256.Create(1.1676998740E-1f)) * x
        - Vector256.Create(1.2420140846E-1f)) * x + Vector256.Create(1.4249322787E-1f)) * x - Vector256.Create(1.6668057665E-1f)) * x
        + Vector256.Create(2.0000714765E-1f)) * x - Vector256.Create(2.4999993993E-1f)) * x + Vector256.Create(3.3333331174E-1f));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float SinPolynomial(float z) => (-1.9515295891E-4f * z + 8.3321608736E-3f) * z - 1.6666654611E-1f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> SinPolynomial(Vector256<float> z) =>
        (Vector256.Create(-1.9515295891E-4f) * z + Vector256.Create(8.3321608736E-3f)) * z - Vector256.Create(1.6666654611E-1f);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float CosPolynomial(float z) => (2.443315711809948E-5f * z - 1.388731625493765E-3f) * z + 4.166664568298827E-2f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> CosPolynomial(Vector256<float> z) =>
        (Vector256.Create(2.443315711809948E-5f) * z - Vector256.Create(1.388731625493765E-3f)) * z + Vector256.Create(4.166664568298827E-2f);
}
