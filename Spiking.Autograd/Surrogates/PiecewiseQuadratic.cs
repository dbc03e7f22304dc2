using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd.Surrogates;

/// <summary>
/// SpikingJelly's <c>surrogate.PiecewiseQuadratic</c>: <c>g'(x) = alpha - alpha^2 * |x|</c> where
/// <c>|x| &lt;= 1/alpha</c> (the boundary included), else <c>0</c>; default <c>alpha = 1</c>.
/// </summary>
public sealed class PiecewiseQuadratic : Surrogate<PiecewiseQuadratic.Formula>
{
    /// <summary>SpikingJelly's default <c>alpha</c>.</summary>
    public const double DefaultAlpha = 1.0;

    /// <summary>A piecewise-quadratic surrogate of steepness <paramref name="alpha"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is not a finite number &gt; 0.</exception>
    public PiecewiseQuadratic(double alpha = DefaultAlpha) : base(new Formula(Positive(alpha, nameof(alpha), "PiecewiseQuadratic")))
    {
        Alpha = alpha;
    }

    /// <summary>The steepness: <c>g'</c> peaks at <c>alpha</c> and is zero beyond <c>|x| = 1/alpha</c>.</summary>
    public double Alpha { get; }

    /// <inheritdoc/>
    public override string Name => "PiecewiseQuadratic";

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, double> Parameters => new Dictionary<string, double> { ["alpha"] = Alpha };

    /// <summary>The operator: <c>g'(x)</c> with the constants in float (unchecked: the surrogate's constructor validates them).</summary>
    public readonly struct Formula(double alpha) : ISurrogateFunction
    {
        /// <summary><c>alpha</c> in float.</summary>
        public float Alpha { get; } = (float)alpha;

        /// <summary><c>(alpha * alpha)</c> in float.</summary>
        public float AlphaSquared { get; } = (float)(alpha * alpha);

        /// <summary><c>(1 / alpha)</c> in float.</summary>
        public float HalfWidth { get; } = (float)(1 / alpha);

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Derivative<TSimd, TVec>(TVec x) where TSimd : struct, ISimd<TVec> where TVec : struct
        {
            var a = TSimd.Abs(x);
            return TSimd.ConditionalSelect(TSimd.LessThanOrEqual(a, TSimd.Broadcast(HalfWidth)),
                TSimd.Subtract(TSimd.Broadcast(Alpha), TSimd.Multiply(TSimd.Broadcast(AlphaSquared), a)), TSimd.Zero);
        }
    }
}
