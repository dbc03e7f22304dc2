using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd.Surrogates;

/// <summary>
/// SpikingJelly's <c>surrogate.Sigmoid</c>: <c>g'(x) = alpha * s * (1 - s)</c> with <c>s = sigmoid(alpha * x)</c>;
/// default <c>alpha = 4</c> (SpikingJelly's default surrogate for every neuron). Evaluated as
/// <c>alpha * e / (1 + e)^2</c> with <c>e = exp(-|alpha * x|)</c>, the same value without overflow or cancellation.
/// </summary>
public sealed class Sigmoid : Surrogate<Sigmoid.Formula>
{
    /// <summary>SpikingJelly's default <c>alpha</c>.</summary>
    public const double DefaultAlpha = 4.0;

    /// <summary>A sigmoid surrogate of steepness <paramref name="alpha"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is not a finite number &gt; 0.</exception>
    public Sigmoid(double alpha = DefaultAlpha) : base(new Formula(Positive(alpha, nameof(alpha), "Sigmoid")))
    {
        Alpha = alpha;
    }

    /// <summary>The steepness: the peak of <c>g'</c> is <c>alpha / 4</c> at x = 0.</summary>
    public double Alpha { get; }

    /// <inheritdoc/>
    public override string Name => "Sigmoid";

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, double> Parameters => new Dictionary<string, double> { ["alpha"] = Alpha };

    /// <summary>The operator: <c>g'(x)</c> with the constants in float (unchecked: the surrogate's constructor validates them).</summary>
    public readonly struct Formula(double alpha) : ISurrogateFunction
    {
        /// <summary><c>alpha</c> in float.</summary>
        public float Alpha { get; } = (float)alpha;

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Derivative<TSimd, TVec>(TVec x) where TSimd : struct, ISimd<TVec> where TVec : struct
        {
            var alpha = TSimd.Broadcast(Alpha);
            var e = TSimd.Exp(TSimd.Negate(TSimd.Abs(TSimd.Multiply(alpha, x))));
            var d = TSimd.Add(TSimd.One, e);
            return TSimd.Divide(TSimd.Multiply(alpha, e), TSimd.Multiply(d, d));
        }
    }
}
