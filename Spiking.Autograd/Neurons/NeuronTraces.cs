using System;
using System.Collections.Generic;
using Spiking.Tensors;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// What a neuron op recorded at every step besides its output, by name, each <c>[T, …]</c> like the input: the state
/// variables after each step (<c>v</c>: SpikingJelly's <c>v_seq</c>), the saved values (<c>h</c>: the potential
/// before firing), and the internal spikes of a float-output model (<c>spike</c>). The caller owns the tensors.
/// </summary>
public sealed class NeuronTraces : IDisposable
{
    private readonly Dictionary<string, Tensor> _traces = new(StringComparer.Ordinal);

    internal void Add(string name, Tensor trace) => _traces[name] = trace;

    /// <summary>The names recorded.</summary>
    public IReadOnlyCollection<string> Names => _traces.Keys;

    /// <summary>The trace named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">Nothing of that name was recorded; the message lists what was.</exception>
    public Tensor this[string name] => _traces.TryGetValue(name, out var t)
        ? t
        : throw new KeyNotFoundException($"No trace '{name}'; recorded: {string.Join(", ", _traces.Keys)}.");

    /// <summary>Whether a trace named <paramref name="name"/> was recorded.</summary>
    public bool Contains(string name) => _traces.ContainsKey(name);

    /// <summary>Disposes every trace.</summary>
    public void Dispose()
    {
        foreach (var t in _traces.Values) t.Dispose();
        _traces.Clear();
    }
}
