using System;
using System.Collections.Generic;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Spiking.Autograd.Surrogates;

/// <summary>
/// SpikingJelly's <c>surrogate.PiecewiseLeakyReLU</c>: <c>g'(x) = 1 / (2w)</c> where <c>|x| &lt; w</c>, else
/// <c>c</c> (so at <c>|x| = w</c> it is <c>c</c>); defaults <c>w = 1</c>, <c>c = 0.01</c>.
/// </summary>
public sealed class PiecewiseLeakyReLU : Surrogate
{
    /// <summary>SpikingJelly's default <c>w</c>.</summary>
    public const double DefaultW = 1.0;

    /// <summary>SpikingJelly's default <c>c</c>.</summary>
    public const double DefaultC = 0.01;

    private readonly float _w;
    private readonly float _inside;
    private readonly float _outside;

    /// <summary>A piecewise-leaky-ReLU surrogate of half-width <paramref name="w"/> and outer slope <paramref name="c"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="w"/> is not a finite number &gt; 0, or <paramref name="c"/> is not a finite number &gt;= 0.</exception>
    public PiecewiseLeakyReLU(double w = DefaultW, double c = DefaultC)
    {
        W = Positive(w, nameof(w), "PiecewiseLeakyReLU");
        C = NonNegative(c, nameof(c), "PiecewiseLeakyReLU");
        _w = (float)w;
        _inside = (float)(1 / (2 * w));
        _outside = (float)c;
    }

    /// <summary>The half-width of the inner segment.</summary>
    public double W { get; }

    /// <summary>The slope outside <c>|x| &lt; w</c>.</summary>
    public double C { get; }

    /// <inheritdoc/>
    public override string Name => "PiecewiseLeakyReLU";

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, double> Parameters => new Dictionary<string, double> { ["w"] = W, ["c"] = C };

    /// <inheritdoc/>
    public override float Derivative(float x) => MathF.Abs(x) < _w ? _inside : _outside;

    /// <inheritdoc/>
    public override void Derivative(ReadOnlySpan<float> x, Span<float> result)
    {
        CheckLengths(x, result);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            ref float src = ref MemoryMarshal.GetReference(x);
            ref float dst = ref MemoryMarshal.GetReference(result);
            var w = new Vector<float>(_w);
            var inside = new Vector<float>(_inside);
            var outside = new Vector<float>(_outside);
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var a = Vector.Abs(Vector.LoadUnsafe(ref src, (nuint)i));
                Vector.ConditionalSelect(Vector.LessThan(a, w), inside, outside).StoreUnsafe(ref dst, (nuint)i);
            }
        }
        for (; i < x.Length; i++) result[i] = Derivative(x[i]);
    }
}
