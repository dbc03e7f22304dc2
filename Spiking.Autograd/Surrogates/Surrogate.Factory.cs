using System;
using System.Collections.Generic;
using System.Linq;

namespace Spiking.Autograd.Surrogates;

public abstract partial class Surrogate
{
    /// <summary>The SpikingJelly class names <see cref="Create"/> knows.</summary>
    public static IReadOnlyList<string> KnownNames { get; } =
        ["Sigmoid", "ATan", "PiecewiseQuadratic", "SoftSign", "Erf", "PiecewiseLeakyReLU", "Rect"];

    /// <summary>
    /// Builds a built-in surrogate from its SpikingJelly class name (case-insensitive) and constructor keyword
    /// arguments (<c>alpha</c>, or <c>w</c> and <c>c</c> for <c>PiecewiseLeakyReLU</c>); missing parameters take
    /// SpikingJelly's defaults. <c>Rectangular</c> is accepted for <c>Rect</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The name is unknown (the message lists the known ones), or a parameter name does not belong to the surrogate.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A parameter value is invalid (see each surrogate).</exception>
    public static Surrogate Create(string name, IReadOnlyDictionary<string, double>? parameters = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        parameters ??= new Dictionary<string, double>();
        string canonical = KnownNames.FirstOrDefault(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase))
            ?? (string.Equals(name, "Rectangular", StringComparison.OrdinalIgnoreCase) ? "Rect" : null)
            ?? throw new ArgumentException($"Unknown surrogate '{name}'; known surrogates: {string.Join(", ", KnownNames)}.", nameof(name));
        return canonical switch
        {
            "Sigmoid" => new Sigmoid(Get(parameters, canonical, "alpha", Sigmoid.DefaultAlpha)),
            "ATan" => new ATan(Get(parameters, canonical, "alpha", ATan.DefaultAlpha)),
            "PiecewiseQuadratic" => new PiecewiseQuadratic(Get(parameters, canonical, "alpha", PiecewiseQuadratic.DefaultAlpha)),
            "SoftSign" => new SoftSign(Get(parameters, canonical, "alpha", SoftSign.DefaultAlpha)),
            "Erf" => new Erf(Get(parameters, canonical, "alpha", Erf.DefaultAlpha)),
            "PiecewiseLeakyReLU" => CreatePiecewiseLeakyReLU(parameters),
            _ => new Rect(Get(parameters, canonical, "alpha", Rect.DefaultAlpha)),
        };
    }

    private static PiecewiseLeakyReLU CreatePiecewiseLeakyReLU(IReadOnlyDictionary<string, double> parameters)
    {
        RejectUnknown(parameters, "PiecewiseLeakyReLU", "w", "c");
        double w = parameters.TryGetValue("w", out var wv) ? wv : PiecewiseLeakyReLU.DefaultW;
        double c = parameters.TryGetValue("c", out var cv) ? cv : PiecewiseLeakyReLU.DefaultC;
        return new PiecewiseLeakyReLU(w, c);
    }

    private static double Get(IReadOnlyDictionary<string, double> parameters, string surrogate, string key, double fallback)
    {
        RejectUnknown(parameters, surrogate, key);
        return parameters.TryGetValue(key, out var v) ? v : fallback;
    }

    private static void RejectUnknown(IReadOnlyDictionary<string, double> parameters, string surrogate, params string[] allowed)
    {
        foreach (var key in parameters.Keys)
        {
            if (Array.IndexOf(allowed, key) < 0)
            {
                throw new ArgumentException(
                    $"Surrogate {surrogate} has no parameter '{key}'; its parameters are: {string.Join(", ", allowed)}.", nameof(parameters));
            }
        }
    }
}
