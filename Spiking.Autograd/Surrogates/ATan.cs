using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd.Surrogates;

/// <summary>
/// SpikingJelly's <c>surrogate.ATan</c>: <c>g'(x) = (alpha / 2) / (1 + (pi/2 * alpha * x)^2)</c>, the derivative of
/// <c>atan(pi/2 * alpha * x) / pi + 1/2</c>; default <c>alpha = 2</c>.
/// </summary>
public sealed class ATan : Surrogate<ATan.Formula>
{
    /// <summary>SpikingJelly's default <c>alpha</c>.</summary>
    public const double DefaultAlpha = 2.0;

    /// <summary>An arctangent surrogate of steepness <paramref name="alpha"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is not a finite number &gt; 0.</exception>
    public ATan(double alpha = DefaultAlpha) : base(new Formula(Positive(alpha, nameof(alpha), "ATan")))
    {
        Alpha = alpha;
    }

    /// <summary>The steepness: the peak of <c>g'</c> is <c>alpha / 2</c> at x = 0.</summary>
    public double Alpha { get; }

    /// <inheritdoc/>
    public override string Name => "ATan";

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, double> Parameters => new Dictionary<string, double> { ["alpha"] = Alpha };

    /// <summary>The operator: <c>g'(x)</c> with the constants in float (unchecked: the surrogate's constructor validates them).</summary>
    public readonly struct Formula(double alpha) : ISurrogateFunction
    {
        /// <summary><c>(alpha / 2)</c> in float.</summary>
        public float HalfAlpha { get; } = (float)(alpha / 2);

        /// <summary><c>(Math.PI / 2 * alpha)</c> in float.</summary>
        public float Scale { get; } = (float)(Math.PI / 2 * alpha);

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Derivative<TSimd, TVec>(TVec x) where TSimd : struct, ISimd<TVec> where TVec : struct
        {
            var t = TSimd.Multiply(TSimd.Broadcast(Scale), x);
            return TSimd.Divide(TSimd.Broadcast(HalfAlpha), TSimd.Add(TSimd.One, TSimd.Multiply(t, t)));
        }
    }
}
