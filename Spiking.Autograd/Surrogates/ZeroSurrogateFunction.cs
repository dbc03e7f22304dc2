using System.Runtime.CompilerServices;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd.Surrogates;

/// <summary>The surrogate of a model that has none (its dynamics define their own derivative): <c>g'(x) = 0</c>.</summary>
internal readonly struct ZeroSurrogateFunction : ISurrogateFunction
{
    public TVec Derivative<TSimd, TVec>(TVec x) where TSimd : struct, ISimd<TVec> where TVec : struct => TSimd.Zero;
}
