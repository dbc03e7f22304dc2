using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Spiking.Autograd.Surrogates;

/// <summary>
/// A spike function with a surrogate gradient, as in SpikingJelly's <c>activation_based.surrogate</c>: the forward is
/// the Heaviside step <c>spike = 1 if x &gt;= 0 else 0</c> (so <b>x = 0 spikes</b>), and the backward replaces its
/// derivative (zero almost everywhere) by <c>g'(x)</c>, the derivative of a smooth or piecewise-linear stand-in.
/// </summary>
/// <remarks>
/// <para>
/// The seven SpikingJelly surrogates are <see cref="Sigmoid"/>, <see cref="ATan"/>, <see cref="PiecewiseQuadratic"/>,
/// <see cref="SoftSign"/>, <see cref="Erf"/>, <see cref="PiecewiseLeakyReLU"/> and <see cref="Rect"/>, with
/// SpikingJelly's definitions and default parameters. <see cref="Create"/> builds one from its SpikingJelly class name.
/// </para>
/// <para>
/// <b>A new surrogate</b> is a subclass that overrides <see cref="Name"/> and <see cref="Derivative(float)"/>; that is
/// all it needs, and the neurons call it per element. To be fused into the neurons' backward at full vector speed,
/// derive from <see cref="Surrogate{TFunction}"/> instead and write <c>g'</c> once as an
/// <see cref="ISurrogateFunction"/> struct, as every built-in surrogate is. Override <see cref="Parameters"/> so
/// messages show its settings, and <see cref="Register"/> it to build it by name. Instances must be immutable: the
/// neurons call them from several threads at once.
/// <code>
/// public sealed class Triangle(float width) : Surrogate
/// {
///     public override string Name => "Triangle";
///     public override float Derivative(float x) => MathF.Max(0f, 1f - MathF.Abs(x) / width) / width;
/// }
/// </code>
/// </para>
/// </remarks>
public abstract partial class Surrogate
{
    private static readonly IReadOnlyDictionary<string, double> s_none = new Dictionary<string, double>();

    /// <summary>The name of the surrogate (SpikingJelly's class name for the built-in ones), for messages.</summary>
    public abstract string Name { get; }

    /// <summary>The parameters by SpikingJelly's keyword names (<c>alpha</c>, <c>w</c>, <c>c</c>), for messages; empty by default.</summary>
    public virtual IReadOnlyDictionary<string, double> Parameters => s_none;

    /// <summary>The forward: <c>1</c> when <paramref name="x"/> &gt;= 0 (including x = 0), else <c>0</c>; NaN gives 0.</summary>
    public static float Heaviside(float x) => x >= 0f ? 1f : 0f;

    /// <summary>The surrogate derivative <c>g'(x)</c> used in place of the Heaviside step's derivative.</summary>
    public abstract float Derivative(float x);

    /// <summary>
    /// Writes <c>g'(x[i])</c> to <c>result[i]</c> for every element. <paramref name="result"/> may be the same span as
    /// <paramref name="x"/> (in place), but must not overlap it otherwise. The default calls
    /// <see cref="Derivative(float)"/> per element; the built-in surrogates override it with vector code.
    /// </summary>
    /// <exception cref="ArgumentException">The spans have different lengths.</exception>
    public virtual void Derivative(ReadOnlySpan<float> x, Span<float> result)
    {
        CheckLengths(x, result);
        for (int i = 0; i < x.Length; i++) result[i] = Derivative(x[i]);
    }

    /// <summary>
    /// Hands the operator struct of this surrogate to <paramref name="visitor"/>, so a kernel is compiled for it. A
    /// surrogate without one is evaluated through its span form, a vector of lanes at a time.
    /// </summary>
    internal virtual TResult Accept<TResult>(ISurrogateVisitor<TResult> visitor) => visitor.Visit(new SpanSurrogateFunction(this));

    /// <summary>Formats the name and parameters, e.g. <c>ATan(alpha=2)</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder(Name).Append('(');
        bool first = true;
        foreach (var (key, value) in Parameters)
        {
            if (!first) sb.Append(", ");
            sb.Append(key).Append('=').Append(value.ToString("R", CultureInfo.InvariantCulture));
            first = false;
        }
        return sb.Append(')').ToString();
    }

    /// <summary>Throws unless <paramref name="x"/> and <paramref name="result"/> have the same length.</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    protected static void CheckLengths(ReadOnlySpan<float> x, Span<float> result)
    {
        if (x.Length != result.Length)
        {
            throw new ArgumentException($"The result span holds {result.Length} floats; the input holds {x.Length}.", nameof(result));
        }
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the parameter unless it is finite and &gt; 0.</summary>
    internal static double Positive(double value, string name, string surrogate)
    {
        if (!(value > 0) || double.IsInfinity(value))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{surrogate}: {name} must be a finite number > 0; got {value.ToString("R", CultureInfo.InvariantCulture)}.");
        }
        return value;
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the parameter unless it is finite and &gt;= 0.</summary>
    internal static double NonNegative(double value, string name, string surrogate)
    {
        if (!(value >= 0) || double.IsInfinity(value))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{surrogate}: {name} must be a finite number >= 0; got {value.ToString("R", CultureInfo.InvariantCulture)}.");
        }
        return value;
    }
}
