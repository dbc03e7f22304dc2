using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd.Surrogates;

/// <summary>
/// SpikingJelly's <c>surrogate.Erf</c>: <c>g'(x) = alpha / sqrt(pi) * exp(-(alpha * x)^2)</c>, the derivative of
/// <c>erfc(-alpha * x) / 2</c>; default <c>alpha = 2</c>.
/// </summary>
public sealed class Erf : Surrogate<Erf.Formula>
{
    /// <summary>SpikingJelly's default <c>alpha</c>.</summary>
    public const double DefaultAlpha = 2.0;

    /// <summary>A Gaussian-error-function surrogate of steepness <paramref name="alpha"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is not a finite number &gt; 0.</exception>
    public Erf(double alpha = DefaultAlpha) : base(new Formula(Positive(alpha, nameof(alpha), "Erf")))
    {
        Alpha = alpha;
    }

    /// <summary>The steepness: the peak of <c>g'</c> is <c>alpha / sqrt(pi)</c> at x = 0.</summary>
    public double Alpha { get; }

    /// <inheritdoc/>
    public override string Name => "Erf";

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, double> Parameters => new Dictionary<string, double> { ["alpha"] = Alpha };

    /// <summary>The operator: <c>g'(x)</c> with the constants in float (unchecked: the surrogate's constructor validates them).</summary>
    public readonly struct Formula(double alpha) : ISurrogateFunction
    {
        /// <summary><c>alpha</c> in float.</summary>
        public float Alpha { get; } = (float)alpha;

        /// <summary><c>(alpha / Math.Sqrt(Math.PI))</c> in float.</summary>
        public float Scale { get; } = (float)(alpha / Math.Sqrt(Math.PI));

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Derivative<TSimd, TVec>(TVec x) where TSimd : struct, ISimd<TVec> where TVec : struct
        {
            var t = TSimd.Multiply(TSimd.Broadcast(Alpha), x);
            return TSimd.Multiply(TSimd.Broadcast(Scale), TSimd.Exp(TSimd.Negate(TSimd.Multiply(t, t))));
        }
    }
}
