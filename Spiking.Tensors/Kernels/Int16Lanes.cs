using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// The int16 vector operations of the portable integer kernels, so each is written once and the JIT specialises it
/// for <see cref="Vector128{T}"/>, <see cref="Vector256{T}"/> or <see cref="Vector512{T}"/> (NEON, SSE/AVX2, AVX-512).
/// Lane arithmetic wraps modulo 2¹⁶; the kernels bound how many products they add before <see cref="AddWidened"/>
/// moves the lanes into int32, so nothing wraps.
/// </summary>
internal interface IInt16Lanes<TVec> where TVec : struct
{
    /// <summary>The number of int16 lanes.</summary>
    static abstract int Count { get; }

    /// <summary>All lanes 0.</summary>
    static abstract TVec Zero { get; }

    /// <summary>Loads <see cref="Count"/> int16 values (unaligned).</summary>
    static abstract unsafe TVec Load(short* source);

    /// <summary>All lanes <paramref name="value"/>.</summary>
    static abstract TVec Broadcast(short value);

    /// <summary>Loads <see cref="Count"/> bytes (unaligned), each zero-extended into its lane.</summary>
    static abstract unsafe TVec LoadBytes(byte* source);

    /// <summary>Lane-wise <c>accumulator + a·b</c>, modulo 2¹⁶.</summary>
    static abstract TVec MultiplyAdd(TVec accumulator, TVec a, TVec b);

    /// <summary>Lane-wise sum, modulo 2¹⁶.</summary>
    static abstract TVec Add(TVec left, TVec right);

    /// <summary>Adds the lanes, sign-extended, to the <see cref="Count"/> int32 values at <paramref name="destination"/>.</summary>
    static abstract unsafe void AddWidened(TVec value, int* destination);
}

/// <summary>Eight int16 lanes (SSE2 or NEON).</summary>
internal readonly struct Int16x128 : IInt16Lanes<Vector128<short>>
{
    public static int Count => Vector128<short>.Count;
    public static Vector128<short> Zero => Vector128<short>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe Vector128<short> Load(short* source) => Vector128.Load(source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<short> Broadcast(short value) => Vector128.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe Vector128<short> LoadBytes(byte* source) =>
        Vector128.WidenLower(Vector128.CreateScalar(Unsafe.ReadUnaligned<ulong>(source)).AsByte()).AsInt16();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<short> MultiplyAdd(Vector128<short> accumulator, Vector128<short> a, Vector128<short> b) => accumulator + a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<short> Add(Vector128<short> left, Vector128<short> right) => left + right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void AddWidened(Vector128<short> value, int* destination)
    {
        var (low, high) = Vector128.Widen(value);
        (Vector128.Load(destination) + low).Store(destination);
        (Vector128.Load(destination + Vector128<int>.Count) + high).Store(destination + Vector128<int>.Count);
    }
}

/// <summary>Sixteen int16 lanes (AVX2).</summary>
internal readonly struct Int16x256 : IInt16Lanes<Vector256<short>>
{
    public static int Count => Vector256<short>.Count;
    public static Vector256<short> Zero => Vector256<short>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe Vector256<short> Load(short* source) => Vector256.Load(source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<short> Broadcast(short value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe Vector256<short> LoadBytes(byte* source) =>
        Vector256.WidenLower(Vector128.Load(source).ToVector256Unsafe()).AsInt16();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<short> MultiplyAdd(Vector256<short> accumulator, Vector256<short> a, Vector256<short> b) => accumulator + a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<short> Add(Vector256<short> left, Vector256<short> right) => left + right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void AddWidened(Vector256<short> value, int* destination)
    {
        var (low, high) = Vector256.Widen(value);
        (Vector256.Load(destination) + low).Store(destination);
        (Vector256.Load(destination + Vector256<int>.Count) + high).Store(destination + Vector256<int>.Count);
    }
}

/// <summary>Thirty-two int16 lanes (AVX-512).</summary>
internal readonly struct Int16x512 : IInt16Lanes<Vector512<short>>
{
    public static int Count => Vector512<short>.Count;
    public static Vector512<short> Zero => Vector512<short>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe Vector512<short> Load(short* source) => Vector512.Load(source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<short> Broadcast(short value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe Vector512<short> LoadBytes(byte* source) =>
        Vector512.WidenLower(Vector256.Load(source).ToVector512Unsafe()).AsInt16();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<short> MultiplyAdd(Vector512<short> accumulator, Vector512<short> a, Vector512<short> b) => accumulator + a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<short> Add(Vector512<short> left, Vector512<short> right) => left + right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void AddWidened(Vector512<short> value, int* destination)
    {
        var (low, high) = Vector512.Widen(value);
        (Vector512.Load(destination) + low).Store(destination);
        (Vector512.Load(destination + Vector512<int>.Count) + high).Store(destination + Vector512<int>.Count);
    }
}
