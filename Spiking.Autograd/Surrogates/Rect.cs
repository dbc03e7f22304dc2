using System;
using System.Collections.Generic;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Spiking.Autograd.Surrogates;

/// <summary>
/// SpikingJelly's <c>surrogate.Rect</c> (a rectangular window): <c>g'(x) = alpha</c> where <c>|x| &lt; 0.5/alpha</c>,
/// else <c>0</c> (so at the boundary it is 0); default <c>alpha = 1</c>.
/// </summary>
public sealed class Rect : Surrogate
{
    /// <summary>SpikingJelly's default <c>alpha</c>.</summary>
    public const double DefaultAlpha = 1.0;

    private readonly float _alpha;
    private readonly float _halfWidth;

    /// <summary>A rectangular surrogate of height <paramref name="alpha"/> and width <c>1/alpha</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is not a finite number &gt; 0.</exception>
    public Rect(double alpha = DefaultAlpha)
    {
        Alpha = Positive(alpha, nameof(alpha), "Rect");
        _alpha = (float)alpha;
        _halfWidth = (float)(0.5 / alpha);
    }

    /// <summary>The height of the window; its width is <c>1/alpha</c>, so its area is 1.</summary>
    public double Alpha { get; }

    /// <inheritdoc/>
    public override string Name => "Rect";

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, double> Parameters => new Dictionary<string, double> { ["alpha"] = Alpha };

    /// <inheritdoc/>
    public override float Derivative(float x) => MathF.Abs(x) < _halfWidth ? _alpha : 0f;

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
            var halfWidth = new Vector<float>(_halfWidth);
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var a = Vector.Abs(Vector.LoadUnsafe(ref src, (nuint)i));
                Vector.ConditionalSelect(Vector.LessThan(a, halfWidth), alpha, Vector<float>.Zero).StoreUnsafe(ref dst, (nuint)i);
            }
        }
        for (; i < x.Length; i++) result[i] = Derivative(x[i]);
    }
}
