using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// The vector operations a kernel needs, so each kernel is written once as a generic method and the JIT
/// specialises it for <see cref="Vector128{T}"/>, <see cref="Vector256{T}"/> or <see cref="Vector512{T}"/>
/// (the BCL's own <c>ISimdVector</c> is not public).
/// </summary>
internal interface ISimd<TVec> where TVec : struct
{
    static abstract int Count { get; }
    static abstract TVec Zero { get; }
    static abstract TVec Broadcast(float value);
    static abstract TVec Load(ref float source);
    static abstract void Store(TVec value, ref float destination);
    static abstract TVec Add(TVec left, TVec right);
    static abstract TVec Subtract(TVec left, TVec right);
    static abstract TVec Multiply(TVec left, TVec right);

    /// <summary>
    /// <c>a * b + c</c>: fused where the hardware has FMA, a multiply then an add elsewhere, because the BCL's
    /// FusedMultiplyAdd falls back to a per-lane software emulation that is two orders of magnitude slower
    /// (seen with Native AOT's default x86-64 baseline, which has no FMA).
    /// </summary>
    static abstract TVec MultiplyAdd(TVec a, TVec b, TVec c);

    static abstract TVec BitwiseAnd(TVec left, TVec right);

    /// <summary>A bit per lane: bit i is set when lane i of <paramref name="value"/> is &gt;= <paramref name="threshold"/>.</summary>
    static abstract ulong GreaterThanOrEqualMask(TVec value, TVec threshold);

    /// <summary>Lanes set to 1.0f where the corresponding bit of <paramref name="bits"/> is set, else 0.</summary>
    static abstract TVec ExpandBits(uint bits);
}

/// <summary>Picks the widest vector width the hardware accelerates.</summary>
internal static class SimdWidth
{
    public static int Bits =>
        Vector512.IsHardwareAccelerated ? 512 :
        Vector256.IsHardwareAccelerated ? 256 :
        Vector128.IsHardwareAccelerated ? 128 : 0;
}

internal readonly struct Simd128 : ISimd<Vector128<float>>
{
    private static readonly Vector128<uint> s_lanes = Vector128.Create(1u, 2u, 4u, 8u);

    public static int Count => Vector128<float>.Count;
    public static Vector128<float> Zero => Vector128<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Broadcast(float value) => Vector128.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Load(ref float source) => Vector128.LoadUnsafe(ref source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<float> value, ref float destination) => value.StoreUnsafe(ref destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Add(Vector128<float> left, Vector128<float> right) => left + right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Subtract(Vector128<float> left, Vector128<float> right) => left - right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Multiply(Vector128<float> left, Vector128<float> right) => left * right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) =>
        Fma.IsSupported || AdvSimd.IsSupported ? Vector128.FusedMultiplyAdd(a, b, c) : a * b + c;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> BitwiseAnd(Vector128<float> left, Vector128<float> right) => left & right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong GreaterThanOrEqualMask(Vector128<float> value, Vector128<float> threshold) => Vector128.GreaterThanOrEqual(value, threshold).ExtractMostSignificantBits();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ExpandBits(uint bits)
    {
        var set = Vector128.Equals(Vector128.Create(bits) & s_lanes, s_lanes);
        return set.AsSingle() & Vector128<float>.One;
    }
}

internal readonly struct Simd256 : ISimd<Vector256<float>>
{
    private static readonly Vector256<uint> s_lanes = Vector256.Create(1u, 2u, 4u, 8u, 16u, 32u, 64u, 128u);

    public static int Count => Vector256<float>.Count;
    public static Vector256<float> Zero => Vector256<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Broadcast(float value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(ref float source) => Vector256.LoadUnsafe(ref source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<float> value, ref float destination) => value.StoreUnsafe(ref destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> left, Vector256<float> right) => left + right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Subtract(Vector256<float> left, Vector256<float> right) => left - right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Multiply(Vector256<float> left, Vector256<float> right) => left * right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
        Fma.IsSupported ? Vector256.FusedMultiplyAdd(a, b, c) : a * b + c;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> BitwiseAnd(Vector256<float> left, Vector256<float> right) => left & right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong GreaterThanOrEqualMask(Vector256<float> value, Vector256<float> threshold) => Vector256.GreaterThanOrEqual(value, threshold).ExtractMostSignificantBits();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ExpandBits(uint bits)
    {
        var set = Vector256.Equals(Vector256.Create(bits) & s_lanes, s_lanes);
        return set.AsSingle() & Vector256<float>.One;
    }
}

internal readonly struct Simd512 : ISimd<Vector512<float>>
{
    private static readonly Vector512<uint> s_lanes = Vector512.Create(
        1u, 2u, 4u, 8u, 16u, 32u, 64u, 128u, 256u, 512u, 1024u, 2048u, 4096u, 8192u, 16384u, 32768u);

    public static int Count => Vector512<float>.Count;
    public static Vector512<float> Zero => Vector512<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Broadcast(float value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(ref float source) => Vector512.LoadUnsafe(ref source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<float> value, ref float destination) => value.StoreUnsafe(ref destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> left, Vector512<float> right) => left + right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Subtract(Vector512<float> left, Vector512<float> right) => left - right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Multiply(Vector512<float> left, Vector512<float> right) => left * right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> BitwiseAnd(Vector512<float> left, Vector512<float> right) => left & right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong GreaterThanOrEqualMask(Vector512<float> value, Vector512<float> threshold) => Vector512.GreaterThanOrEqual(value, threshold).ExtractMostSignificantBits();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ExpandBits(uint bits)
    {
        var set = Vector512.Equals(Vector512.Create(bits) & s_lanes, s_lanes);
        return set.AsSingle() & Vector512<float>.One;
    }
}
