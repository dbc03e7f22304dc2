using System;
using System.Collections.Generic;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Spiking.Autograd.Surrogates;

/// <summary>
/// SpikingJelly's <c>surrogate.Erf</c>: <c>g'(x) = alpha / sqrt(pi) * exp(-(alpha * x)^2)</c>, the derivative of
/// <c>erfc(-alpha * x) / 2</c>; default <c>alpha = 2</c>.
/// </summary>
public sealed class Erf : Surrogate
{
    /// <summary>SpikingJelly's default <c>alpha</c>.</summary>
    public const double DefaultAlpha = 2.0;

    private readonly float _alpha;
    private readonly float _scale;

    /// <summary>A Gaussian-error-function surrogate of steepness <paramref name="alpha"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is not a finite number &gt; 0.</exception>
    public Erf(double alpha = DefaultAlpha)
    {
        Alpha = Positive(alpha, nameof(alpha), "Erf");
        _alpha = (float)alpha;
        _scale = (float)(alpha / Math.Sqrt(Math.PI));
    }

    /// <summary>The steepness: the peak of <c>g'</c> is <c>alpha / sqrt(pi)</c> at x = 0.</summary>
    public double Alpha { get; }

    /// <inheritdoc/>
    public override string Name => "Erf";

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, double> Parameters => new Dictionary<string, double> { ["alpha"] = Alpha };

    /// <inheritdoc/>
    public override float Derivative(float x)
    {
        float t = _alpha * x;
        return _scale * MathF.Exp(-(t * t));
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
            var scale = new Vector<float>(_scale);
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var t = alpha * Vector.LoadUnsafe(ref src, (nuint)i);
                (scale * Vector.Exp(-(t * t))).StoreUnsafe(ref dst, (nuint)i);
            }
        }
        for (; i < x.Length; i++) result[i] = Derivative(x[i]);
    }
}
