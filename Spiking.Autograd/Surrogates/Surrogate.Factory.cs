using System;
using System.Collections.Generic;

namespace Spiking.Autograd.Surrogates;

public abstract partial class Surrogate
{
    private static readonly object s_registryLock = new();

    private static readonly Dictionary<string, (string Name, Func<IReadOnlyDictionary<string, double>, Surrogate> Create)> s_registry =
        new(StringComparer.OrdinalIgnoreCase)
        {
            ["Sigmoid"] = ("Sigmoid", p => new Sigmoid(Get(p, "Sigmoid", "alpha", Sigmoid.DefaultAlpha))),
            ["ATan"] = ("ATan", p => new ATan(Get(p, "ATan", "alpha", ATan.DefaultAlpha))),
            ["PiecewiseQuadratic"] = ("PiecewiseQuadratic", p => new PiecewiseQuadratic(Get(p, "PiecewiseQuadratic", "alpha", PiecewiseQuadratic.DefaultAlpha))),
            ["SoftSign"] = ("SoftSign", p => new SoftSign(Get(p, "SoftSign", "alpha", SoftSign.DefaultAlpha))),
            ["Erf"] = ("Erf", p => new Erf(Get(p, "Erf", "alpha", Erf.DefaultAlpha))),
            ["PiecewiseLeakyReLU"] = ("PiecewiseLeakyReLU", CreatePiecewiseLeakyReLU),
            ["Rect"] = ("Rect", p => new Rect(Get(p, "Rect", "alpha", Rect.DefaultAlpha))),
        };

    private static readonly string[] s_builtInNames = ["Sigmoid", "ATan", "PiecewiseQuadratic", "SoftSign", "Erf", "PiecewiseLeakyReLU", "Rect"];

    private static readonly Dictionary<string, string> s_aliases = new(StringComparer.OrdinalIgnoreCase) { ["Rectangular"] = "Rect" };

    /// <summary>The names <see cref="Create"/> knows: SpikingJelly's seven class names, then every registered one.</summary>
    public static IReadOnlyList<string> KnownNames
    {
        get
        {
            lock (s_registryLock) return KnownNamesLocked();
        }
    }

    /// <summary>
    /// Builds a surrogate from its name (case-insensitive) and keyword parameters: a built-in one from its
    /// SpikingJelly class name and constructor arguments (<c>alpha</c>, or <c>w</c> and <c>c</c> for
    /// <c>PiecewiseLeakyReLU</c>; missing ones take SpikingJelly's defaults; <c>Rectangular</c> is accepted for
    /// <c>Rect</c>), or one added with <see cref="Register"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The name is unknown (the message lists the known ones), or a parameter name does not belong to the surrogate.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A parameter value is invalid (see each surrogate).</exception>
    public static Surrogate Create(string name, IReadOnlyDictionary<string, double>? parameters = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        Func<IReadOnlyDictionary<string, double>, Surrogate> create;
        lock (s_registryLock)
        {
            string key = s_aliases.TryGetValue(name, out var alias) ? alias : name;
            if (!s_registry.TryGetValue(key, out var entry))
            {
                throw new ArgumentException($"Unknown surrogate '{name}'; known surrogates: {string.Join(", ", KnownNamesLocked())}.", nameof(name));
            }
            create = entry.Create;
        }
        return create(parameters ?? new Dictionary<string, double>())
            ?? throw new InvalidOperationException($"The factory registered for surrogate '{name}' returned null.");
    }

    /// <summary>
    /// Makes <paramref name="name"/> known to <see cref="Create"/> (and so to every place that builds surrogates by
    /// name, such as the conformance runner): <paramref name="create"/> receives the keyword parameters and should
    /// reject unknown ones. Registering a name again replaces the earlier factory; the built-in names cannot be
    /// replaced.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or whitespace, or names a built-in surrogate.</exception>
    public static void Register(string name, Func<IReadOnlyDictionary<string, double>, Surrogate> create)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(create);
        lock (s_registryLock)
        {
            if (Array.IndexOf(s_builtInNames, s_registry.TryGetValue(name, out var existing) ? existing.Name : "") >= 0 || s_aliases.ContainsKey(name))
            {
                throw new ArgumentException($"'{name}' is a built-in surrogate; register a new name.", nameof(name));
            }
            s_registry[name] = (name, create);
        }
    }

    private static List<string> KnownNamesLocked()
    {
        var names = new List<string>(s_registry.Count);
        foreach (var entry in s_registry.Values) names.Add(entry.Name);
        return names;
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

    /// <summary>Throws unless every key of <paramref name="parameters"/> is one of <paramref name="allowed"/>; for factories given to <see cref="Register"/> too.</summary>
    /// <exception cref="ArgumentException">A key is not allowed; the message lists the allowed ones.</exception>
    public static void RejectUnknown(IReadOnlyDictionary<string, double> parameters, string surrogate, params string[] allowed)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(allowed);
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
