using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd.Surrogates;

/// <summary>
/// SpikingJelly's <c>surrogate.Rect</c> (a rectangular window): <c>g'(x) = alpha</c> where <c>|x| &lt; 0.5/alpha</c>,
/// else <c>0</c> (so at the boundary it is 0); default <c>alpha = 1</c>.
/// </summary>
public sealed class Rect : Surrogate<Rect.Formula>
{
    /// <summary>SpikingJelly's default <c>alpha</c>.</summary>
    public const double DefaultAlpha = 1.0;

    /// <summary>A rectangular surrogate of height <paramref name="alpha"/> and width <c>1/alpha</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is not a finite number &gt; 0.</exception>
    public Rect(double alpha = DefaultAlpha) : base(new Formula(Positive(alpha, nameof(alpha), "Rect")))
    {
        Alpha = alpha;
    }

    /// <summary>The height of the window; its width is <c>1/alpha</c>, so its area is 1.</summary>
    public double Alpha { get; }

    /// <inheritdoc/>
    public override string Name => "Rect";

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, double> Parameters => new Dictionary<string, double> { ["alpha"] = Alpha };

    /// <summary>The operator: <c>g'(x)</c> with the constants in float (unchecked: the surrogate's constructor validates them).</summary>
    public readonly struct Formula(double alpha) : ISurrogateFunction
    {
        /// <summary><c>alpha</c> in float.</summary>
        public float Alpha { get; } = (float)alpha;

        /// <summary><c>(0.5 / alpha)</c> in float.</summary>
        public float HalfWidth { get; } = (float)(0.5 / alpha);

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Derivative<TSimd, TVec>(TVec x) where TSimd : struct, ISimd<TVec> where TVec : struct
        {
            return TSimd.ConditionalSelect(TSimd.LessThan(TSimd.Abs(x), TSimd.Broadcast(HalfWidth)), TSimd.Broadcast(Alpha), TSimd.Zero);
        }
    }
}
