using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd.Surrogates;

/// <summary>
/// A surrogate defined by its operator struct <typeparamref name="TFunction"/>: the scalar form, the span form and
/// the fused neuron kernels all evaluate <see cref="ISurrogateFunction.Derivative{TSimd, TVec}"/>, so they agree bit
/// for bit. Every built-in surrogate derives from it; so can a user's, to be fused into the neurons' backward.
/// </summary>
/// <typeparam name="TFunction">The operator struct holding the surrogate's constants.</typeparam>
public abstract class Surrogate<TFunction> : Surrogate where TFunction : struct, ISurrogateFunction
{
    /// <summary>A surrogate evaluated by <paramref name="function"/>.</summary>
    protected Surrogate(TFunction function)
    {
        Function = function;
    }

    /// <summary>The operator struct.</summary>
    public TFunction Function { get; }

    /// <summary><c>g'(x)</c>: the operator on one lane, so the scalar gives the vector's bits.</summary>
    public sealed override float Derivative(float x) =>
        Function.Derivative<Simd128, Vector128<float>>(Vector128.Create(x)).ToScalar();

    /// <inheritdoc/>
    public sealed override void Derivative(ReadOnlySpan<float> x, Span<float> result)
    {
        CheckLengths(x, result);
        switch (SimdWidth.Bits)
        {
            case 512: Sweep<Simd512, Vector512<float>>(Function, x, result); break;
            case 256: Sweep<Simd256, Vector256<float>>(Function, x, result); break;
            default: Sweep<Simd128, Vector128<float>>(Function, x, result); break;
        }
    }

    internal sealed override TResult Accept<TResult>(ISurrogateVisitor<TResult> visitor) => visitor.Visit(Function);

    /// <summary>The one vector loop of every surrogate; the tail runs as a zero-padded vector through the same operator.</summary>
    private static void Sweep<TSimd, TVec>(in TFunction function, ReadOnlySpan<float> x, Span<float> result)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        ref float src = ref MemoryMarshal.GetReference(x);
        ref float dst = ref MemoryMarshal.GetReference(result);
        int i = 0;
        for (; i <= x.Length - TSimd.Count; i += TSimd.Count)
        {
            TSimd.Store(function.Derivative<TSimd, TVec>(TSimd.Load(ref Unsafe.Add(ref src, i))), ref Unsafe.Add(ref dst, i));
        }
        int tail = x.Length - i;
        if (tail == 0) return;
        Span<float> lanes = stackalloc float[TSimd.Count];
        lanes.Clear();
        x[i..].CopyTo(lanes);
        TSimd.Store(function.Derivative<TSimd, TVec>(TSimd.Load(ref MemoryMarshal.GetReference(lanes))), ref MemoryMarshal.GetReference(lanes));
        lanes[..tail].CopyTo(result[i..]);
    }
}
