using System;
using System.Numerics.Tensors;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// A transposed copy <c>Wᵀ[K,N]</c> of a PyTorch-layout weight <c>W[N,K]</c>, with its column sums, for
/// <see cref="SpikeAccumulate.Forward"/>. The copy is rebuilt when a different weight is passed or when the
/// weight's <see cref="Tensor.Version"/> moved (any <see cref="Tensor.AsSpan"/> call, which is how optimizers
/// and loaders write weights), so a stale transpose is never used.
/// </summary>
public sealed class TransposedWeightCache : IDisposable
{
    private Tensor? _source;
    private int _sourceVersion;
    private Tensor? _transposed;
    private Tensor? _columnSums;

    /// <summary>How many times the transpose was (re)built; lets tests and benchmarks see invalidation.</summary>
    public int Rebuilds { get; private set; }

    /// <summary>Returns <c>Wᵀ</c> and <c>Σ_k Wᵀ[k,:]</c> for <paramref name="weight"/> (shape <c>[N, K]</c>), rebuilding if needed.</summary>
    /// <exception cref="ArgumentException">The weight is not rank 2 or is disposed.</exception>
    public (Tensor Transposed, Tensor ColumnSums) Get(Tensor weight)
    {
        TensorChecks.Rank(weight, 2, nameof(weight));
        if (ReferenceEquals(weight, _source) && weight.Version == _sourceVersion && _transposed is not null && _columnSums is not null)
        {
            return (_transposed, _columnSums);
        }
        int n = weight.Shape[0], k = weight.Shape[1];
        if (_transposed is null || _transposed.Shape != new Shape(k, n))
        {
            _transposed?.Dispose();
            _columnSums?.Dispose();
            _transposed = Tensor.Empty(k, n);
            _columnSums = Tensor.Empty(n);
        }
        var w = weight.AsReadOnlySpan();
        var t = _transposed.AsSpan();
        Transpose.Matrix(w, n, k, t);
        var sums = _columnSums!.AsSpan();
        for (int j = 0; j < n; j++) sums[j] = TensorPrimitives.Sum(w.Slice(j * k, k));
        _source = weight;
        _sourceVersion = weight.Version;
        Rebuilds++;
        return (_transposed, _columnSums);
    }

    /// <summary>Returns the cached buffers to the pool.</summary>
    public void Dispose()
    {
        _transposed?.Dispose();
        _columnSums?.Dispose();
        _transposed = null;
        _columnSums = null;
        _source = null;
    }
}
