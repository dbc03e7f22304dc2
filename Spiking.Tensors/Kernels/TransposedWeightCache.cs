using System;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// A PyTorch-layout weight <c>W[N,K]</c> packed for <see cref="SpikeAccumulate"/> (transposed into
/// <see cref="SpikeWeightPanels"/> with its column sums). The packing is redone when a different weight is passed
/// or when the weight's <see cref="Tensor.Version"/> moved (any <see cref="Tensor.AsSpan"/> call on its storage,
/// which is how optimizers and loaders write weights), so a stale copy is never used.
/// </summary>
public sealed class TransposedWeightCache : IDisposable
{
    private readonly SpikeWeightPanels _panels = new();
    private Tensor? _source;
    private int _sourceVersion;
    private bool _valid;

    /// <summary>How many times the weight was (re)packed; lets tests and benchmarks see invalidation.</summary>
    public int Rebuilds { get; private set; }

    /// <summary>Returns the packed form of <paramref name="weight"/> (shape <c>[N, K]</c>), repacking if needed.</summary>
    /// <exception cref="ArgumentException">The weight is not rank 2 or is disposed.</exception>
    public SpikeWeightPanels Get(Tensor weight)
    {
        TensorChecks.Rank(weight, 2, nameof(weight));
        if (_valid && ReferenceEquals(weight, _source) && weight.Version == _sourceVersion) return _panels;
        _panels.PackWeight(weight.AsReadOnlySpan(), weight.Shape[0], weight.Shape[1]);
        _source = weight;
        _sourceVersion = weight.Version;
        _valid = true;
        Rebuilds++;
        return _panels;
    }

    /// <summary>Drops the packed copy.</summary>
    public void Dispose()
    {
        _panels.Dispose();
        _source = null;
        _valid = false;
    }
}
