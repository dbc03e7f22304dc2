using System.Runtime.CompilerServices;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// A reset rule <c>v = r(h, s)</c> for a spike <c>s</c> in {0, 1}, and its derivative <c>dv/dh</c> given the surrogate
/// <c>sg = g'(h − θ)</c> (which enters through <c>s</c> unless the reset is detached). Vector and scalar forms use the
/// same operations in the same order. SpikingJelly's four variants (hard or soft, detached or not) are the four
/// structs below; a model's dynamics is generic over the rule, so each gets its own compiled kernel.
/// </summary>
public interface IResetRule
{
    /// <summary>The potential after the reset of <paramref name="h"/> by spikes <paramref name="s"/> (0 or 1 per lane).</summary>
    static abstract TVec Reset<TSimd, TVec>(TVec h, TVec s, TVec one, TVec vr, TVec theta) where TSimd : struct, ISimd<TVec> where TVec : struct;

    /// <summary>The scalar form of <see cref="Reset{TSimd, TVec}"/>, the same operations in the same order.</summary>
    static abstract float Reset(float h, float s, float vr, float theta);

    /// <summary><c>dv/dh</c> of the reset, <paramref name="sg"/> being the surrogate derivative of the spike at h.</summary>
    static abstract TVec DvDh<TSimd, TVec>(TVec h, TVec s, TVec sg, TVec one, TVec vr, TVec theta) where TSimd : struct, ISimd<TVec> where TVec : struct;

    /// <summary>The scalar form of <see cref="DvDh{TSimd, TVec}"/>.</summary>
    static abstract float DvDh(float h, float s, float sg, float vr, float theta);

    /// <summary>True for the hard reset rules.</summary>
    static abstract bool IsHard { get; }

    /// <summary>True for the rules whose spike is detached from the graph.</summary>
    static abstract bool IsDetached { get; }
}

/// <summary>Hard reset: <c>v = s·vr + (1 − s)·h</c>, <c>dv/dh = (1 − s) + (vr − h)·sg</c>.</summary>
public readonly struct HardReset : IResetRule
{
    /// <inheritdoc/>
    public static bool IsHard => true;

    /// <inheritdoc/>
    public static bool IsDetached => false;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Reset<TSimd, TVec>(TVec h, TVec s, TVec one, TVec vr, TVec theta) where TSimd : struct, ISimd<TVec> where TVec : struct =>
        TSimd.Add(TSimd.Multiply(s, vr), TSimd.Multiply(TSimd.Subtract(one, s), h));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Reset(float h, float s, float vr, float theta) => s * vr + (1f - s) * h;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec DvDh<TSimd, TVec>(TVec h, TVec s, TVec sg, TVec one, TVec vr, TVec theta) where TSimd : struct, ISimd<TVec> where TVec : struct =>
        TSimd.Add(TSimd.Subtract(one, s), TSimd.Multiply(TSimd.Subtract(vr, h), sg));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float DvDh(float h, float s, float sg, float vr, float theta) => (1f - s) + (vr - h) * sg;
}

/// <summary>Hard reset with <c>detach_reset</c>: the same <c>v</c>, <c>dv/dh = 1 − s</c>.</summary>
public readonly struct HardResetDetached : IResetRule
{
    /// <inheritdoc/>
    public static bool IsHard => true;

    /// <inheritdoc/>
    public static bool IsDetached => true;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Reset<TSimd, TVec>(TVec h, TVec s, TVec one, TVec vr, TVec theta) where TSimd : struct, ISimd<TVec> where TVec : struct =>
        HardReset.Reset<TSimd, TVec>(h, s, one, vr, theta);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Reset(float h, float s, float vr, float theta) => HardReset.Reset(h, s, vr, theta);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec DvDh<TSimd, TVec>(TVec h, TVec s, TVec sg, TVec one, TVec vr, TVec theta) where TSimd : struct, ISimd<TVec> where TVec : struct =>
        TSimd.Subtract(one, s);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float DvDh(float h, float s, float sg, float vr, float theta) => 1f - s;
}

/// <summary>Soft reset: <c>v = h − s·θ</c>, <c>dv/dh = 1 − θ·sg</c>.</summary>
public readonly struct SoftReset : IResetRule
{
    /// <inheritdoc/>
    public static bool IsHard => false;

    /// <inheritdoc/>
    public static bool IsDetached => false;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Reset<TSimd, TVec>(TVec h, TVec s, TVec one, TVec vr, TVec theta) where TSimd : struct, ISimd<TVec> where TVec : struct =>
        TSimd.Subtract(h, TSimd.Multiply(s, theta));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Reset(float h, float s, float vr, float theta) => h - s * theta;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec DvDh<TSimd, TVec>(TVec h, TVec s, TVec sg, TVec one, TVec vr, TVec theta) where TSimd : struct, ISimd<TVec> where TVec : struct =>
        TSimd.Subtract(one, TSimd.Multiply(theta, sg));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float DvDh(float h, float s, float sg, float vr, float theta) => 1f - theta * sg;
}

/// <summary>Soft reset with <c>detach_reset</c>: the same <c>v</c>, <c>dv/dh = 1</c>.</summary>
public readonly struct SoftResetDetached : IResetRule
{
    /// <inheritdoc/>
    public static bool IsHard => false;

    /// <inheritdoc/>
    public static bool IsDetached => true;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Reset<TSimd, TVec>(TVec h, TVec s, TVec one, TVec vr, TVec theta) where TSimd : struct, ISimd<TVec> where TVec : struct =>
        SoftReset.Reset<TSimd, TVec>(h, s, one, vr, theta);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Reset(float h, float s, float vr, float theta) => SoftReset.Reset(h, s, vr, theta);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec DvDh<TSimd, TVec>(TVec h, TVec s, TVec sg, TVec one, TVec vr, TVec theta) where TSimd : struct, ISimd<TVec> where TVec : struct =>
        one;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float DvDh(float h, float s, float sg, float vr, float theta) => 1f;
}
