using System;
using System.Collections.Generic;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Spiking.Autograd.Surrogates;

/// <summary>
/// SpikingJelly's <c>surrogate.PiecewiseQuadratic</c>: <c>g'(x) = alpha - alpha^2 * |x|</c> where
/// <c>|x| &lt;= 1/alpha</c> (the boundary included), else <c>0</c>; default <c>alpha = 1</c>.
/// </summary>
public sealed class PiecewiseQuadratic : Surrogate
{
    /// <summary>SpikingJelly's default <c>alpha</c>.</summary>
    public const double DefaultAlpha = 1.0;

    private readonly float _alpha;
    private readonly float _alphaSquared;
    private readonly float _halfWidth;

    /// <summary>A piecewise-quadratic surrogate of steepness <paramref name="alpha"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is not a finite number &gt; 0.</exception>
    public PiecewiseQuadratic(double alpha = DefaultAlpha)
    {
        Alpha = Positive(alpha, nameof(alpha), "PiecewiseQuadratic");
        _alpha = (float)alpha;
        _alphaSquared = (float)(alpha * alpha);
        _halfWidth = (float)(1 / alpha);
    }

    /// <summary>The steepness: <c>g'</c> peaks at <c>alpha</c> and is zero beyond <c>|x| = 1/alpha</c>.</summary>
    public double Alpha { get; }

    /// <inheritdoc/>
    public override string Name => "PiecewiseQuadratic";

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, double> Parameters => new Dictionary<string, double> { ["alpha"] = Alpha };

    /// <inheritdoc/>
    public override float Derivative(float x)
    {
        float a = MathF.Abs(x);
        return a <= _halfWidth ? _alpha - _alphaSquared * a : 0f;
    }

    /// <inheritdoc/>
    public override void Derivative(ReadOnlySpan<float> x, Span<float> result)
    {
        CheckLengths(x, result);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            ref float src = ref MemoryMarshal.GetReference(x);
            ref float dst = ref MemoryMarshal.GetReference(result);
            var alpha = new Vector<float>(_alpha);
            var alphaSquared = new Vector<float>(_alphaSquared);
            var halfWidth = new Vector<float>(_halfWidth);
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var a = Vector.Abs(Vector.LoadUnsafe(ref src, (nuint)i));
                Vector.ConditionalSelect(Vector.LessThanOrEqual(a, halfWidth), alpha - alphaSquared * a, Vector<float>.Zero)
                    .StoreUnsafe(ref dst, (nuint)i);
            }
        }
        for (; i < x.Length; i++) result[i] = Derivative(x[i]);
    }
}
