using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd.Surrogates;

/// <summary>
/// SpikingJelly's <c>surrogate.PiecewiseLeakyReLU</c>: <c>g'(x) = 1 / (2w)</c> where <c>|x| &lt; w</c>, else
/// <c>c</c> (so at <c>|x| = w</c> it is <c>c</c>); defaults <c>w = 1</c>, <c>c = 0.01</c>.
/// </summary>
public sealed class PiecewiseLeakyReLU : Surrogate<PiecewiseLeakyReLU.Formula>
{
    /// <summary>SpikingJelly's default <c>w</c>.</summary>
    public const double DefaultW = 1.0;

    /// <summary>SpikingJelly's default <c>c</c>.</summary>
    public const double DefaultC = 0.01;

    /// <summary>A piecewise-leaky-ReLU surrogate of half-width <paramref name="w"/> and outer slope <paramref name="c"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="w"/> is not a finite number &gt; 0, or <paramref name="c"/> is not a finite number &gt;= 0.</exception>
    public PiecewiseLeakyReLU(double w = DefaultW, double c = DefaultC) : base(new Formula(Positive(w, nameof(w), "PiecewiseLeakyReLU"), NonNegative(c, nameof(c), "PiecewiseLeakyReLU")))
    {
        W = w;
        C = c;
    }

    /// <summary>The half-width of the inner segment.</summary>
    public double W { get; }

    /// <summary>The slope outside <c>|x| &lt; w</c>.</summary>
    public double C { get; }

    /// <inheritdoc/>
    public override string Name => "PiecewiseLeakyReLU";

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, double> Parameters => new Dictionary<string, double> { ["w"] = W, ["c"] = C };

    /// <summary>The operator: <c>g'(x)</c> with the constants in float (unchecked: the surrogate's constructor validates them).</summary>
    public readonly struct Formula(double w, double c) : ISurrogateFunction
    {
        /// <summary><c>w</c> in float.</summary>
        public float W { get; } = (float)w;

        /// <summary><c>(1 / (2 * w))</c> in float.</summary>
        public float Inside { get; } = (float)(1 / (2 * w));

        /// <summary><c>c</c> in float.</summary>
        public float Outside { get; } = (float)c;

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Derivative<TSimd, TVec>(TVec x) where TSimd : struct, ISimd<TVec> where TVec : struct
        {
            return TSimd.ConditionalSelect(TSimd.LessThan(TSimd.Abs(x), TSimd.Broadcast(W)), TSimd.Broadcast(Inside), TSimd.Broadcast(Outside));
        }
    }
}
