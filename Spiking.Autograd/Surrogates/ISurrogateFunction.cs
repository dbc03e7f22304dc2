using Spiking.Tensors.Kernels;

namespace Spiking.Autograd.Surrogates;

/// <summary>
/// A surrogate derivative <c>g'(x)</c> as an operator struct, written once over <see cref="ISimd{TVec}"/>: the fused
/// neuron kernels inline it into their backward through time, and <see cref="Surrogate{TFunction}"/> derives the
/// scalar and span forms from it, so every path computes the same bits.
/// </summary>
/// <remarks>
/// The struct holds the surrogate's constants (precomputed in float) and must be immutable: kernels call it from
/// several threads at once.
/// </remarks>
public interface ISurrogateFunction
{
    /// <summary><c>g'(x)</c> in every lane of <paramref name="x"/>.</summary>
    /// <typeparam name="TSimd">The vector operations of the width the kernel runs at.</typeparam>
    /// <typeparam name="TVec">The vector of floats.</typeparam>
    TVec Derivative<TSimd, TVec>(TVec x) where TSimd : struct, ISimd<TVec> where TVec : struct;
}

/// <summary>Receives a surrogate's operator struct, so a kernel is compiled for that surrogate.</summary>
internal interface ISurrogateVisitor<TResult>
{
    TResult Visit<TFunction>(in TFunction function) where TFunction : struct, ISurrogateFunction;
}
