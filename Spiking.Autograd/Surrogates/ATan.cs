using System;
using System.Collections.Generic;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Spiking.Autograd.Surrogates;

/// <summary>
/// SpikingJelly's <c>surrogate.ATan</c>: <c>g'(x) = (alpha / 2) / (1 + (pi/2 * alpha * x)^2)</c>, the derivative of
/// <c>atan(pi/2 * alpha * x) / pi + 1/2</c>; default <c>alpha = 2</c>.
/// </summary>
public sealed class ATan : Surrogate
{
    /// <summary>SpikingJelly's default <c>alpha</c>.</summary>
    public const double DefaultAlpha = 2.0;

    private readonly float _halfAlpha;
    private readonly float _scale;

    /// <summary>An arctangent surrogate of steepness <paramref name="alpha"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is not a finite number &gt; 0.</exception>
    public ATan(double alpha = DefaultAlpha)
    {
        Alpha = Positive(alpha, nameof(alpha), "ATan");
        _halfAlpha = (float)(alpha / 2);
        _scale = (float)(Math.PI / 2 * alpha);
    }

    /// <summary>The steepness: the peak of <c>g'</c> is <c>alpha / 2</c> at x = 0.</summary>
    public double Alpha { get; }

    /// <inheritdoc/>
    public override string Name => "ATan";

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, double> Parameters => new Dictionary<string, double> { ["alpha"] = Alpha };

    /// <inheritdoc/>
    public override float Derivative(float x)
    {
        float t = _scale * x;
        return _halfAlpha / (1f + t * t);
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
            var scale = new Vector<float>(_scale);
            var half = new Vector<float>(_halfAlpha);
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var t = scale * Vector.LoadUnsafe(ref src, (nuint)i);
                (half / (Vector<float>.One + t * t)).StoreUnsafe(ref dst, (nuint)i);
            }
        }
        for (; i < x.Length; i++) result[i] = Derivative(x[i]);
    }
}
