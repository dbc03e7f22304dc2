using System.Runtime.CompilerServices;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// A charge equation <c>h = f(v, x)</c>, written once for vectors and once for the scalar tail with the same
/// operations in the same order, so both give the same bits. <c>k</c> is <c>1/tau</c> (or <c>sigmoid(w)</c>), <c>vr</c>
/// the reset potential (0 for soft reset).
/// </summary>
internal interface IChargeRule
{
    static abstract TVec Charge<TSimd, TVec>(TVec v, TVec x, TVec k, TVec vr) where TSimd : struct, ISimd<TVec> where TVec : struct;

    static abstract float Charge(float v, float x, float k, float vr);
}

/// <summary>IF: <c>h = v + x</c>.</summary>
internal readonly struct IntegrateCharge : IChargeRule
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Charge<TSimd, TVec>(TVec v, TVec x, TVec k, TVec vr) where TSimd : struct, ISimd<TVec> where TVec : struct =>
        TSimd.Add(v, x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Charge(float v, float x, float k, float vr) => v + x;
}

/// <summary>LIF with <c>decay_input</c>: <c>h = v + (x − (v − vr))·k</c> (SpikingJelly's <c>v + (x - (v - v_reset)) / tau</c>).</summary>
internal readonly struct DecayInputCharge : IChargeRule
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Charge<TSimd, TVec>(TVec v, TVec x, TVec k, TVec vr) where TSimd : struct, ISimd<TVec> where TVec : struct =>
        TSimd.Add(v, TSimd.Multiply(TSimd.Subtract(x, TSimd.Subtract(v, vr)), k));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Charge(float v, float x, float k, float vr) => v + (x - (v - vr)) * k;
}

/// <summary>LIF without <c>decay_input</c>: <c>h = v − (v − vr)·k + x</c> (SpikingJelly's <c>v - (v - v_reset) / tau + x</c>).</summary>
internal readonly struct LeakCharge : IChargeRule
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Charge<TSimd, TVec>(TVec v, TVec x, TVec k, TVec vr) where TSimd : struct, ISimd<TVec> where TVec : struct =>
        TSimd.Add(TSimd.Subtract(v, TSimd.Multiply(TSimd.Subtract(v, vr), k)), x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Charge(float v, float x, float k, float vr) => v - (v - vr) * k + x;
}
