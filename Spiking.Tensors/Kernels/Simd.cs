using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// The vector operations a kernel needs, so each kernel is written once as a generic method and the JIT
/// specialises it for <see cref="Vector128{T}"/>, <see cref="Vector256{T}"/> or <see cref="Vector512{T}"/>
/// (the BCL's own <c>ISimdVector</c> is not public). User-defined neuron dynamics and surrogates are written over
/// it too. Every operation is the IEEE float32 operation lane by lane, so a lane gives the same bits at every width.
/// </summary>
/// <typeparam name="TVec">The vector of floats.</typeparam>
public interface ISimd<TVec> where TVec : struct
{
    /// <summary>The number of float lanes.</summary>
    static abstract int Count { get; }

    /// <summary>All lanes 0.</summary>
    static abstract TVec Zero { get; }

    /// <summary>All lanes 1.</summary>
    static abstract TVec One { get; }

    /// <summary>All lanes <paramref name="value"/>.</summary>
    static abstract TVec Broadcast(float value);

    /// <summary>Loads <see cref="Count"/> floats from <paramref name="source"/> (unaligned).</summary>
    static abstract TVec Load(ref float source);

    /// <summary>Stores the lanes to <paramref name="destination"/> (unaligned).</summary>
    static abstract void Store(TVec value, ref float destination);

    /// <summary>Lane-wise sum.</summary>
    static abstract TVec Add(TVec left, TVec right);

    /// <summary>Lane-wise difference.</summary>
    static abstract TVec Subtract(TVec left, TVec right);

    /// <summary>Lane-wise product.</summary>
    static abstract TVec Multiply(TVec left, TVec right);

    /// <summary>Lane-wise quotient.</summary>
    static abstract TVec Divide(TVec left, TVec right);

    /// <summary>Lane-wise negation (the sign bit flipped).</summary>
    static abstract TVec Negate(TVec value);

    /// <summary>Lane-wise absolute value.</summary>
    static abstract TVec Abs(TVec value);

    /// <summary>Lane-wise minimum.</summary>
    static abstract TVec Min(TVec left, TVec right);

    /// <summary>Lane-wise maximum.</summary>
    static abstract TVec Max(TVec left, TVec right);

    /// <summary>Lane-wise <c>e^x</c> (the BCL's vector exponential; the same bits in every lane at every width).</summary>
    static abstract TVec Exp(TVec value);

    /// <summary>Lane-wise rounding to the nearest integer, halves to even.</summary>
    static abstract TVec Round(TVec value);

    /// <summary>All bits set in the lanes where <paramref name="left"/> &lt; <paramref name="right"/>, else 0.</summary>
    static abstract TVec LessThan(TVec left, TVec right);

    /// <summary>All bits set in the lanes where <paramref name="left"/> &lt;= <paramref name="right"/>, else 0.</summary>
    static abstract TVec LessThanOrEqual(TVec left, TVec right);

    /// <summary>All bits set in the lanes where <paramref name="left"/> &gt; <paramref name="right"/>, else 0.</summary>
    static abstract TVec GreaterThan(TVec left, TVec right);

    /// <summary>All bits set in the lanes where <paramref name="left"/> &gt;= <paramref name="right"/>, else 0.</summary>
    static abstract TVec GreaterThanOrEqual(TVec left, TVec right);

    /// <summary>Lanes of <paramref name="whenSet"/> where <paramref name="mask"/> has all bits set, else of <paramref name="whenClear"/>.</summary>
    static abstract TVec ConditionalSelect(TVec mask, TVec whenSet, TVec whenClear);

    /// <summary>
    /// <c>a * b + c</c>: fused where the hardware has FMA, a multiply then an add elsewhere, because the BCL's
    /// FusedMultiplyAdd falls back to a per-lane software emulation that is two orders of magnitude slower
    /// (seen with Native AOT's default x86-64 baseline, which has no FMA).
    /// </summary>
    static abstract TVec MultiplyAdd(TVec a, TVec b, TVec c);

    /// <summary>Lane-wise bitwise AND (with a comparison mask: the lanes that passed, 0 elsewhere).</summary>
    static abstract TVec BitwiseAnd(TVec left, TVec right);

    /// <summary>A bit per lane: bit i is set when lane i of <paramref name="value"/> is &gt;= <paramref name="threshold"/>.</summary>
    static abstract ulong GreaterThanOrEqualMask(TVec value, TVec threshold);

    /// <summary>Lanes set to 1.0f where the corresponding bit of <paramref name="bits"/> is set, else 0.</summary>
    static abstract TVec ExpandBits(uint bits);
}

/// <summary>Picks the widest vector width the hardware accelerates.</summary>
public static class SimdWidth
{
    /// <summary>512, 256 or 128: the widest accelerated width (Vector512 where accelerated, Vector128 on ARM); 0 without SIMD.</summary>
    public static int Bits =>
        Vector512.IsHardwareAccelerated ? 512 :
        Vector256.IsHardwareAccelerated ? 256 :
        Vector128.IsHardwareAccelerated ? 128 : 0;
}

/// <summary>The 128-bit vector operations (SSE or NEON).</summary>
public readonly struct Simd128 : ISimd<Vector128<float>>
{
    private static readonly Vector128<uint> s_lanes = Vector128.Create(1u, 2u, 4u, 8u);

    /// <inheritdoc/>
    public static int Count => Vector128<float>.Count;
    /// <inheritdoc/>
    public static Vector128<float> Zero => Vector128<float>.Zero;
    /// <inheritdoc/>
    public static Vector128<float> One => Vector128<float>.One;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Broadcast(float value) => Vector128.Create(value);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Load(ref float source) => Vector128.LoadUnsafe(ref source);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<float> value, ref float destination) => value.StoreUnsafe(ref destination);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Add(Vector128<float> left, Vector128<float> right) => left + right;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Subtract(Vector128<float> left, Vector128<float> right) => left - right;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Multiply(Vector128<float> left, Vector128<float> right) => left * right;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Divide(Vector128<float> left, Vector128<float> right) => left / right;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Negate(Vector128<float> value) => -value;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Abs(Vector128<float> value) => Vector128.Abs(value);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Min(Vector128<float> left, Vector128<float> right) => Vector128.Min(left, right);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Max(Vector128<float> left, Vector128<float> right) => Vector128.Max(left, right);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Exp(Vector128<float> value) => Vector128.Exp(value);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Round(Vector128<float> value) => Vector128.Round(value);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> LessThan(Vector128<float> left, Vector128<float> right) => Vector128.LessThan(left, right);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> LessThanOrEqual(Vector128<float> left, Vector128<float> right) => Vector128.LessThanOrEqual(left, right);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> GreaterThan(Vector128<float> left, Vector128<float> right) => Vector128.GreaterThan(left, right);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> GreaterThanOrEqual(Vector128<float> left, Vector128<float> right) => Vector128.GreaterThanOrEqual(left, right);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> ConditionalSelect(Vector128<float> mask, Vector128<float> whenSet, Vector128<float> whenClear) => Vector128.ConditionalSelect(mask, whenSet, whenClear);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) =>
        Fma.IsSupported || AdvSimd.IsSupported ? Vector128.FusedMultiplyAdd(a, b, c) : a * b + c;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> BitwiseAnd(Vector128<float> left, Vector128<float> right) => left & right;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong GreaterThanOrEqualMask(Vector128<float> value, Vector128<float> threshold) => Vector128.GreaterThanOrEqual(value, threshold).ExtractMostSignificantBits();
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ExpandBits(uint bits)
    {
        var set = Vector128.Equals(Vector128.Create(bits) & s_lanes, s_lanes);
        return set.AsSingle() & Vector128<float>.One;
    }
}

/// <summary>The 256-bit vector operations (AVX2).</summary>
public readonly struct Simd256 : ISimd<Vector256<float>>
{
    private static readonly Vector256<uint> s_lanes = Vector256.Create(1u, 2u, 4u, 8u, 16u, 32u, 64u, 128u);

    /// <inheritdoc/>
    public static int Count => Vector256<float>.Count;
    /// <inheritdoc/>
    public static Vector256<float> Zero => Vector256<float>.Zero;
    /// <inheritdoc/>
    public static Vector256<float> One => Vector256<float>.One;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Broadcast(float value) => Vector256.Create(value);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(ref float source) => Vector256.LoadUnsafe(ref source);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<float> value, ref float destination) => value.StoreUnsafe(ref destination);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> left, Vector256<float> right) => left + right;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Subtract(Vector256<float> left, Vector256<float> right) => left - right;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Multiply(Vector256<float> left, Vector256<float> right) => left * right;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Divide(Vector256<float> left, Vector256<float> right) => left / right;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Negate(Vector256<float> value) => -value;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Abs(Vector256<float> value) => Vector256.Abs(value);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Min(Vector256<float> left, Vector256<float> right) => Vector256.Min(left, right);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Max(Vector256<float> left, Vector256<float> right) => Vector256.Max(left, right);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Exp(Vector256<float> value) => Vector256.Exp(value);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Round(Vector256<float> value) => Vector256.Round(value);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> LessThan(Vector256<float> left, Vector256<float> right) => Vector256.LessThan(left, right);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> LessThanOrEqual(Vector256<float> left, Vector256<float> right) => Vector256.LessThanOrEqual(left, right);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> GreaterThan(Vector256<float> left, Vector256<float> right) => Vector256.GreaterThan(left, right);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> GreaterThanOrEqual(Vector256<float> left, Vector256<float> right) => Vector256.GreaterThanOrEqual(left, right);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> ConditionalSelect(Vector256<float> mask, Vector256<float> whenSet, Vector256<float> whenClear) => Vector256.ConditionalSelect(mask, whenSet, whenClear);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
        Fma.IsSupported ? Vector256.FusedMultiplyAdd(a, b, c) : a * b + c;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> BitwiseAnd(Vector256<float> left, Vector256<float> right) => left & right;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong GreaterThanOrEqualMask(Vector256<float> value, Vector256<float> threshold) => Vector256.GreaterThanOrEqual(value, threshold).ExtractMostSignificantBits();
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ExpandBits(uint bits)
    {
        var set = Vector256.Equals(Vector256.Create(bits) & s_lanes, s_lanes);
        return set.AsSingle() & Vector256<float>.One;
    }
}

/// <summary>The 512-bit vector operations (AVX-512).</summary>
public readonly struct Simd512 : ISimd<Vector512<float>>
{
    private static readonly Vector512<uint> s_lanes = Vector512.Create(
        1u, 2u, 4u, 8u, 16u, 32u, 64u, 128u, 256u, 512u, 1024u, 2048u, 4096u, 8192u, 16384u, 32768u);

    /// <inheritdoc/>
    public static int Count => Vector512<float>.Count;
    /// <inheritdoc/>
    public static Vector512<float> Zero => Vector512<float>.Zero;
    /// <inheritdoc/>
    public static Vector512<float> One => Vector512<float>.One;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Broadcast(float value) => Vector512.Create(value);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(ref float source) => Vector512.LoadUnsafe(ref source);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<float> value, ref float destination) => value.StoreUnsafe(ref destination);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> left, Vector512<float> right) => left + right;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Subtract(Vector512<float> left, Vector512<float> right) => left - right;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Multiply(Vector512<float> left, Vector512<float> right) => left * right;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Divide(Vector512<float> left, Vector512<float> right) => left / right;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Negate(Vector512<float> value) => -value;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Abs(Vector512<float> value) => Vector512.Abs(value);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Min(Vector512<float> left, Vector512<float> right) => Vector512.Min(left, right);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Max(Vector512<float> left, Vector512<float> right) => Vector512.Max(left, right);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Exp(Vector512<float> value) => Vector512.Exp(value);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Round(Vector512<float> value) => Vector512.Round(value);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> LessThan(Vector512<float> left, Vector512<float> right) => Vector512.LessThan(left, right);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> LessThanOrEqual(Vector512<float> left, Vector512<float> right) => Vector512.LessThanOrEqual(left, right);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> GreaterThan(Vector512<float> left, Vector512<float> right) => Vector512.GreaterThan(left, right);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> GreaterThanOrEqual(Vector512<float> left, Vector512<float> right) => Vector512.GreaterThanOrEqual(left, right);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> ConditionalSelect(Vector512<float> mask, Vector512<float> whenSet, Vector512<float> whenClear) => Vector512.ConditionalSelect(mask, whenSet, whenClear);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> BitwiseAnd(Vector512<float> left, Vector512<float> right) => left & right;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong GreaterThanOrEqualMask(Vector512<float> value, Vector512<float> threshold) => Vector512.GreaterThanOrEqual(value, threshold).ExtractMostSignificantBits();
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ExpandBits(uint bits)
    {
        var set = Vector512.Equals(Vector512.Create(bits) & s_lanes, s_lanes);
        return set.AsSingle() & Vector512<float>.One;
    }
}
