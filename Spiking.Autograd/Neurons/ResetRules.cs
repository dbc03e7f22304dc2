using System.Runtime.CompilerServices;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// A reset rule <c>v = r(h, s)</c> for a spike <c>s</c> in {0, 1}, and its derivative <c>dv/dh</c> given the surrogate
/// <c>sg = g'(h − θ)</c> (which enters through <c>s</c> unless the reset is detached). Vector and scalar forms use the
/// same operations in the same order.
/// </summary>
internal interface IResetRule
{
    static abstract TVec Reset<TSimd, TVec>(TVec h, TVec s, TVec one, TVec vr, TVec theta) where TSimd : struct, ISimd<TVec> where TVec : struct;

    static abstract float Reset(float h, float s, float vr, float theta);

    static abstract TVec DvDh<TSimd, TVec>(TVec h, TVec s, TVec sg, TVec one, TVec vr, TVec theta) where TSimd : struct, ISimd<TVec> where TVec : struct;

    static abstract float DvDh(float h, float s, float sg, float vr, float theta);
}

/// <summary>Hard reset: <c>v = s·vr + (1 − s)·h</c>, <c>dv/dh = (1 − s) + (vr − h)·sg</c>.</summary>
internal readonly struct HardReset : IResetRule
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Reset<TSimd, TVec>(TVec h, TVec s, TVec one, TVec vr, TVec theta) where TSimd : struct, ISimd<TVec> where TVec : struct =>
        TSimd.Add(TSimd.Multiply(s, vr), TSimd.Multiply(TSimd.Subtract(one, s), h));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Reset(float h, float s, float vr, float theta) => s * vr + (1f - s) * h;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec DvDh<TSimd, TVec>(TVec h, TVec s, TVec sg, TVec one, TVec vr, TVec theta) where TSimd : struct, ISimd<TVec> where TVec : struct =>
        TSimd.Add(TSimd.Subtract(one, s), TSimd.Multiply(TSimd.Subtract(vr, h), sg));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float DvDh(float h, float s, float sg, float vr, float theta) => (1f - s) + (vr - h) * sg;
}

/// <summary>Hard reset with <c>detach_reset</c>: the same <c>v</c>, <c>dv/dh = 1 − s</c>.</summary>
internal readonly struct HardResetDetached : IResetRule
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Reset<TSimd, TVec>(TVec h, TVec s, TVec one, TVec vr, TVec theta) where TSimd : struct, ISimd<TVec> where TVec : struct =>
        HardReset.Reset<TSimd, TVec>(h, s, one, vr, theta);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Reset(float h, float s, float vr, float theta) => HardReset.Reset(h, s, vr, theta);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec DvDh<TSimd, TVec>(TVec h, TVec s, TVec sg, TVec one, TVec vr, TVec theta) where TSimd : struct, ISimd<TVec> where TVec : struct =>
        TSimd.Subtract(one, s);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float DvDh(float h, float s, float sg, float vr, float theta) => 1f - s;
}

/// <summary>Soft reset: <c>v = h − s·θ</c>, <c>dv/dh = 1 − θ·sg</c>.</summary>
internal readonly struct SoftReset : IResetRule
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Reset<TSimd, TVec>(TVec h, TVec s, TVec one, TVec vr, TVec theta) where TSimd : struct, ISimd<TVec> where TVec : struct =>
        TSimd.Subtract(h, TSimd.Multiply(s, theta));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Reset(float h, float s, float vr, float theta) => h - s * theta;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec DvDh<TSimd, TVec>(TVec h, TVec s, TVec sg, TVec one, TVec vr, TVec theta) where TSimd : struct, ISimd<TVec> where TVec : struct =>
        TSimd.Subtract(one, TSimd.Multiply(theta, sg));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float DvDh(float h, float s, float sg, float vr, float theta) => 1f - theta * sg;
}

/// <summary>Soft reset with <c>detach_reset</c>: the same <c>v</c>, <c>dv/dh = 1</c>.</summary>
internal readonly struct SoftResetDetached : IResetRule
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Reset<TSimd, TVec>(TVec h, TVec s, TVec one, TVec vr, TVec theta) where TSimd : struct, ISimd<TVec> where TVec : struct =>
        SoftReset.Reset<TSimd, TVec>(h, s, one, vr, theta);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Reset(float h, float s, float vr, float theta) => SoftReset.Reset(h, s, vr, theta);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec DvDh<TSimd, TVec>(TVec h, TVec s, TVec sg, TVec one, TVec vr, TVec theta) where TSimd : struct, ISimd<TVec> where TVec : struct =>
        one;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float DvDh(float h, float s, float sg, float vr, float theta) => 1f;
}
