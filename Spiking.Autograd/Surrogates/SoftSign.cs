using System;
using System.Collections.Generic;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Spiking.Autograd.Surrogates;

/// <summary>
/// SpikingJelly's <c>surrogate.SoftSign</c>: <c>g'(x) = 1 / (2 * alpha * (1/alpha + |x|)^2)</c>, the derivative of
/// <c>(softsign(alpha * x) + 1) / 2</c>; default <c>alpha = 2</c>.
/// </summary>
public sealed class SoftSign : Surrogate
{
    /// <summary>SpikingJelly's default <c>alpha</c>.</summary>
    public const double DefaultAlpha = 2.0;

    private readonly float _inverseAlpha;
    private readonly float _twoAlpha;

    /// <summary>A soft-sign surrogate of steepness <paramref name="alpha"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is not a finite number &gt; 0.</exception>
    public SoftSign(double alpha = DefaultAlpha)
    {
        Alpha = Positive(alpha, nameof(alpha), "SoftSign");
        _inverseAlpha = (float)(1 / alpha);
        _twoAlpha = (float)(2 * alpha);
    }

    /// <summary>The steepness: the peak of <c>g'</c> is <c>alpha / 2</c> at x = 0.</summary>
    public double Alpha { get; }

    /// <inheritdoc/>
    public override string Name => "SoftSign";

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, double> Parameters => new Dictionary<string, double> { ["alpha"] = Alpha };

    /// <inheritdoc/>
    public override float Derivative(float x)
    {
        float t = _inverseAlpha + MathF.Abs(x);
        return 1f / (_twoAlpha * t * t);
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
            var inverseAlpha = new Vector<float>(_inverseAlpha);
            var twoAlpha = new Vector<float>(_twoAlpha);
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var t = inverseAlpha + Vector.Abs(Vector.LoadUnsafe(ref src, (nuint)i));
                (Vector<float>.One / (twoAlpha * t * t)).StoreUnsafe(ref dst, (nuint)i);
            }
        }
        for (; i < x.Length; i++) result[i] = Derivative(x[i]);
    }
}
