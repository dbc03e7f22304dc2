using System;
using System.Collections.Generic;

namespace Spiking.Layers.Serialization;

/// <summary>A read and validated safetensors file: its tensors in data order and its <c>__metadata__</c>.</summary>
public sealed class SafeTensorsFile
{
    private readonly Dictionary<string, SafeTensorsEntry> _byName;

    internal SafeTensorsFile(string source, IReadOnlyList<SafeTensorsEntry> entries, IReadOnlyDictionary<string, string> metadata)
    {
        Source = source;
        Entries = entries;
        Metadata = metadata;
        _byName = new Dictionary<string, SafeTensorsEntry>(entries.Count, StringComparer.Ordinal);
        foreach (var e in entries) _byName.Add(e.Name, e);
    }

    /// <summary>The file path (or the source name given to <see cref="SafeTensors.Parse"/>).</summary>
    public string Source { get; }

    /// <summary>Every tensor, in the order of their data in the file.</summary>
    public IReadOnlyList<SafeTensorsEntry> Entries { get; }

    /// <summary>The string-to-string <c>__metadata__</c> of the header; empty when it has none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensor named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">The file has no such tensor.</exception>
    public SafeTensorsEntry this[string name] =>
        _byName.TryGetValue(name, out var e) ? e : throw new KeyNotFoundException($"{Source} has no tensor named '{name}'.");

    /// <summary>Looks up the tensor named <paramref name="name"/>.</summary>
    public bool TryGetEntry(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SafeTensorsEntry? entry) =>
        _byName.TryGetValue(name, out entry);
}
