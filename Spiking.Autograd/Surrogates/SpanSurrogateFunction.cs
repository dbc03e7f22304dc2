using System;
using System.Runtime.InteropServices;
using System.Runtime.CompilerServices;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd.Surrogates;

/// <summary>
/// The operator a kernel uses for a surrogate that has no operator struct of its own: the lanes go through the
/// surrogate's span form (a virtual call per vector, so such surrogates work everywhere, at a cost).
/// </summary>
internal readonly struct SpanSurrogateFunction(Surrogate surrogate) : ISurrogateFunction
{
    public TVec Derivative<TSimd, TVec>(TVec x) where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        Span<float> lanes = stackalloc float[TSimd.Count];
        ref float first = ref MemoryMarshal.GetReference(lanes);
        TSimd.Store(x, ref first);
        surrogate.Derivative(lanes, lanes);
        return TSimd.Load(ref first);
    }
}
