using System;
using System.Collections.Generic;
using System.Globalization;
using Spiking.Autograd.Surrogates;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// The keyword arguments a SpikingJelly neuron class was built with (<c>tau</c>, <c>v_reset</c>, <c>surrogate</c>, …),
/// as numbers, flags, strings, nulls, lists of numbers and nested maps, so that a model can be created from them
/// by name (<c>NeuronCatalog</c> in Spiking.Layers, the conformance runner). Each typed read marks its key used;
/// <see cref="RejectUnknown"/> then refuses any key the model did not read, naming it.
/// </summary>
public sealed class NeuronSettings
{
    /// <summary>Keys that select how SpikingJelly ran, not what it computed; accepted and ignored.</summary>
    private static readonly string[] s_runModeKeys = ["step_mode", "backend", "store_v_seq"];

    private readonly IReadOnlyDictionary<string, object?> _values;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    /// <summary>
    /// The arguments <paramref name="values"/> of class <paramref name="node"/>. Values are <see cref="double"/>,
    /// <see cref="bool"/>, <see cref="string"/>, null, <see cref="IReadOnlyList{T}"/> of double, or nested
    /// <see cref="IReadOnlyDictionary{TKey, TValue}"/> (a surrogate's <c>{name, params}</c>).
    /// </summary>
    public NeuronSettings(string node, IReadOnlyDictionary<string, object?> values)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(values);
        Node = node;
        _values = values;
    }

    /// <summary>The class name.</summary>
    public string Node { get; }

    /// <summary>Whether <paramref name="key"/> was given.</summary>
    public bool Has(string key) => _values.ContainsKey(key);

    /// <summary>The number <paramref name="key"/>, or <paramref name="fallback"/> when absent.</summary>
    /// <exception cref="ArgumentException">The value is not a number.</exception>
    public double Number(string key, double fallback) => Get(key, out var v) ? AsNumber(key, v) : fallback;

    /// <summary>The number or null <paramref name="key"/> (null means "none", e.g. a soft reset), or <paramref name="fallback"/> when absent.</summary>
    /// <exception cref="ArgumentException">The value is neither a number nor null.</exception>
    public double? NumberOrNone(string key, double? fallback) => Get(key, out var v) ? v is null ? null : AsNumber(key, v) : fallback;

    /// <summary>The whole number <paramref name="key"/>, or <paramref name="fallback"/> when absent.</summary>
    /// <exception cref="ArgumentException">The value is not a whole number.</exception>
    public int WholeNumber(string key, int fallback)
    {
        if (!Get(key, out var v)) return fallback;
        double d = AsNumber(key, v);
        if (d != Math.Floor(d) || d < int.MinValue || d > int.MaxValue) throw Wrong(key, v, "a whole number");
        return (int)d;
    }

    /// <summary>The flag <paramref name="key"/>, or <paramref name="fallback"/> when absent.</summary>
    /// <exception cref="ArgumentException">The value is not a boolean.</exception>
    public bool Flag(string key, bool fallback) => Get(key, out var v) ? v as bool? ?? throw Wrong(key, v, "true or false") : fallback;

    /// <summary>The string <paramref name="key"/>, or <paramref name="fallback"/> when absent.</summary>
    /// <exception cref="ArgumentException">The value is not a string.</exception>
    public string Text(string key, string fallback) => Get(key, out var v) ? v as string ?? throw Wrong(key, v, "a string") : fallback;

    /// <summary>The list of numbers <paramref name="key"/>, or null when absent.</summary>
    /// <exception cref="ArgumentException">The value is not a list of numbers.</exception>
    public IReadOnlyList<double>? Numbers(string key) => Get(key, out var v) ? v as IReadOnlyList<double> ?? throw Wrong(key, v, "a list of numbers") : null;

    /// <summary>
    /// The surrogate (<c>surrogate</c>, or SpikingJelly's keyword <c>surrogate_function</c>) as its name and
    /// parameters; <paramref name="defaultName"/> with no parameters when absent.
    /// </summary>
    /// <exception cref="ArgumentException">The value is not a map with a string <c>name</c> and a map <c>params</c>.</exception>
    public (string Name, IReadOnlyDictionary<string, object?> Parameters) SurrogateSpec(string defaultName)
    {
        string key = Has("surrogate_function") ? "surrogate_function" : "surrogate";
        if (!Get(key, out var v)) return (defaultName, new Dictionary<string, object?>());
        if (v is not IReadOnlyDictionary<string, object?> map || !map.TryGetValue("name", out var name) || name is not string text)
        {
            throw Wrong(key, v, "a map {name, params}");
        }
        var parameters = map.TryGetValue("params", out var p) && p is not null
            ? p as IReadOnlyDictionary<string, object?> ?? throw Wrong(key + ".params", p, "a map")
            : new Dictionary<string, object?>();
        return (text, parameters);
    }

    /// <summary>The surrogate, built by <see cref="Surrogate.Create"/> from its name and numeric parameters (default <paramref name="defaultName"/>).</summary>
    /// <exception cref="ArgumentException">The surrogate is unknown or a parameter is not a number.</exception>
    public Surrogate Surrogate(string defaultName)
    {
        var (name, parameters) = SurrogateSpec(defaultName);
        var numbers = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (k, v) in parameters) numbers[k] = AsNumber($"surrogate parameter {k}", v);
        return Surrogates.Surrogate.Create(name, numbers);
    }

    /// <summary>Throws unless every key was read by the model (or selects only how SpikingJelly ran: <c>step_mode</c>, <c>backend</c>, <c>store_v_seq</c>).</summary>
    /// <exception cref="ArgumentException">A key was not read; the message names it and the keys the model knows.</exception>
    public void RejectUnknown()
    {
        foreach (var key in _values.Keys)
        {
            if (_read.Contains(key) || Array.IndexOf(s_runModeKeys, key) >= 0) continue;
            throw new ArgumentException($"{Node} has no parameter '{key}' (it reads: {string.Join(", ", _read)}).", key);
        }
    }

    private bool Get(string key, out object? value)
    {
        _read.Add(key);
        return _values.TryGetValue(key, out value);
    }

    private double AsNumber(string key, object? v) => v is double d ? d : throw Wrong(key, v, "a number");

    private ArgumentException Wrong(string key, object? value, string expected) =>
        new($"{Node}: parameter '{key}' must be {expected}; got {Describe(value)}.", key);

    private static string Describe(object? value) => value switch
    {
        null => "null",
        string s => $"\"{s}\"",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        _ => value.GetType().Name,
    };
}
