using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd.Surrogates;

/// <summary>
/// SpikingJelly's <c>surrogate.SoftSign</c>: <c>g'(x) = 1 / (2 * alpha * (1/alpha + |x|)^2)</c>, the derivative of
/// <c>(softsign(alpha * x) + 1) / 2</c>; default <c>alpha = 2</c>.
/// </summary>
public sealed class SoftSign : Surrogate<SoftSign.Formula>
{
    /// <summary>SpikingJelly's default <c>alpha</c>.</summary>
    public const double DefaultAlpha = 2.0;

    /// <summary>A soft-sign surrogate of steepness <paramref name="alpha"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is not a finite number &gt; 0.</exception>
    public SoftSign(double alpha = DefaultAlpha) : base(new Formula(Positive(alpha, nameof(alpha), "SoftSign")))
    {
        Alpha = alpha;
    }

    /// <summary>The steepness: the peak of <c>g'</c> is <c>alpha / 2</c> at x = 0.</summary>
    public double Alpha { get; }

    /// <inheritdoc/>
    public override string Name => "SoftSign";

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, double> Parameters => new Dictionary<string, double> { ["alpha"] = Alpha };

    /// <summary>The operator: <c>g'(x)</c> with the constants in float (unchecked: the surrogate's constructor validates them).</summary>
    public readonly struct Formula(double alpha) : ISurrogateFunction
    {
        /// <summary><c>(1 / alpha)</c> in float.</summary>
        public float InverseAlpha { get; } = (float)(1 / alpha);

        /// <summary><c>(2 * alpha)</c> in float.</summary>
        public float TwoAlpha { get; } = (float)(2 * alpha);

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Derivative<TSimd, TVec>(TVec x) where TSimd : struct, ISimd<TVec> where TVec : struct
        {
            var t = TSimd.Add(TSimd.Broadcast(InverseAlpha), TSimd.Abs(x));
            return TSimd.Divide(TSimd.One, TSimd.Multiply(TSimd.Multiply(TSimd.Broadcast(TwoAlpha), t), t));
        }
    }
}
