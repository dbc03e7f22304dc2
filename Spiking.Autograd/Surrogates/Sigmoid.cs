using System;
using System.Collections.Generic;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Spiking.Autograd.Surrogates;

/// <summary>
/// SpikingJelly's <c>surrogate.Sigmoid</c>: <c>g'(x) = alpha * s * (1 - s)</c> with <c>s = sigmoid(alpha * x)</c>;
/// default <c>alpha = 4</c> (SpikingJelly's default surrogate for every neuron). Evaluated as
/// <c>alpha * e / (1 + e)^2</c> with <c>e = exp(-|alpha * x|)</c>, the same value without overflow or cancellation.
/// </summary>
public sealed class Sigmoid : Surrogate
{
    /// <summary>SpikingJelly's default <c>alpha</c>.</summary>
    public const double DefaultAlpha = 4.0;

    private readonly float _alpha;

    /// <summary>A sigmoid surrogate of steepness <paramref name="alpha"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is not a finite number &gt; 0.</exception>
    public Sigmoid(double alpha = DefaultAlpha)
    {
        Alpha = Positive(alpha, nameof(alpha), "Sigmoid");
        _alpha = (float)alpha;
    }

    /// <summary>The steepness: the peak of <c>g'</c> is <c>alpha / 4</c> at x = 0.</summary>
    public double Alpha { get; }

    /// <inheritdoc/>
    public override string Name => "Sigmoid";

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, double> Parameters => new Dictionary<string, double> { ["alpha"] = Alpha };

    /// <inheritdoc/>
    public override float Derivative(float x)
    {
        float e = MathF.Exp(-MathF.Abs(_alpha * x));
        float d = 1f + e;
        return _alpha * e / (d * d);
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
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var v = Vector.LoadUnsafe(ref src, (nuint)i);
                var e = Vector.Exp(-Vector.Abs(alpha * v));
                var d = Vector<float>.One + e;
                (alpha * e / (d * d)).StoreUnsafe(ref dst, (nuint)i);
            }
        }
        for (; i < x.Length; i++) result[i] = Derivative(x[i]);
    }
}
