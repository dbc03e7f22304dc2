using System;
using Spiking.Tensors;

namespace Spiking.Layers.Data;

/// <summary>
/// One batch of a <see cref="DataLoader"/> epoch. It views the loader's reused buffers, so it is valid only until
/// the loader loads the next batch; the loader owns <see cref="Images"/>, which must not be disposed.
/// </summary>
public readonly struct Batch : IEquatable<Batch>
{
    private readonly byte[] _pixels;
    private readonly int[] _labels;
    private readonly int[] _order;
    private readonly int _start;

    internal Batch(Tensor images, byte[] pixels, int[] labels, int[] order, int start, int count)
    {
        Images = images;
        _pixels = pixels;
        _labels = labels;
        _order = order;
        _start = start;
        Count = count;
    }

    /// <summary>The images <c>[Count, 1, Rows, Columns]</c>, each pixel divided by 255.</summary>
    public Tensor Images { get; }

    /// <summary>The number of samples in this batch.</summary>
    public int Count { get; }

    /// <summary>The raw pixel bytes of the batch, <c>Count × Rows × Columns</c>, in the order of <see cref="Images"/>.</summary>
    public ReadOnlySpan<byte> Pixels => _pixels.AsSpan(0, Images.Length);

    /// <summary>The class labels, one per sample.</summary>
    public ReadOnlySpan<int> Labels => _labels.AsSpan(0, Count);

    /// <summary>The dataset indices of the samples.</summary>
    public ReadOnlySpan<int> Indices => _order.AsSpan(_start, Count);

    /// <inheritdoc/>
    public bool Equals(Batch other) => ReferenceEquals(Images, other.Images) && _start == other._start && Count == other.Count;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Batch other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Images, _start, Count);

    /// <summary>Whether both view the same samples of the same buffers.</summary>
    public static bool operator ==(Batch left, Batch right) => left.Equals(right);

    /// <summary>Whether they differ.</summary>
    public static bool operator !=(Batch left, Batch right) => !left.Equals(right);
}
