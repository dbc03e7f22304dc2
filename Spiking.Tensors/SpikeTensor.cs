using System;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Threading;
using Spiking.Tensors.Backends;
using Spiking.Tensors.Kernels;

namespace Spiking.Tensors;

/// <summary>
/// A binary tensor stored one bit per spike. The last axis is packed into 64-bit words, least significant
/// bit first; every row (all axes but the last) starts on a word, and the padding bits past the last
/// element of a row are always zero. Memory per spike is one bit plus that row padding.
/// </summary>
/// <remarks>Views by time step share storage like <see cref="Tensor"/> views do.</remarks>
public sealed partial class SpikeTensor : IDisposable
{
    private readonly PooledStorage<ulong>? _storage;
    private readonly DeviceMemory? _memory;
    private readonly int _wordOffset;
    private int _disposed;

    private SpikeTensor(PooledStorage<ulong>? storage, DeviceMemory? memory, int wordOffset, Shape shape)
    {
        if (shape.Rank == 0) throw new ArgumentException("A spike tensor needs at least one axis; the last axis is the packed one.", nameof(shape));
        _storage = storage;
        _memory = memory;
        _wordOffset = wordOffset;
        Shape = shape;
        RowLength = shape.LastDimension;
        WordsPerRow = WordsFor(RowLength);
        RowCount = shape.RowCount;
    }

    /// <summary>The host array holding the words (shared by views), for telling shared storage apart.</summary>
    internal ulong[] StorageArray => (_storage ?? throw new InvalidOperationException($"SpikeTensor{Shape} is on {Device}; it has no host array.")).Array;

    /// <summary>The index of this view's first word in <see cref="StorageArray"/>.</summary>
    internal int WordOffset => _wordOffset;

    /// <summary>The dimensions of this tensor.</summary>
    public Shape Shape { get; }

    /// <summary>The device that holds the storage.</summary>
    public Device Device => _memory?.Backend.Device ?? Device.Cpu;

    /// <summary>The backend whose kernels compute on this tensor's device.</summary>
    public ComputeBackend Backend => _memory?.Backend ?? ComputeBackend.Cpu;

    /// <summary>True when the words are in host memory, readable through <see cref="Words"/>.</summary>
    public bool IsOnHost => _memory is null;

    /// <summary>The device address of this view's first word, for backends that launch kernels on it.</summary>
    /// <exception cref="InvalidOperationException">The tensor is in host memory.</exception>
    public ulong DeviceAddress
    {
        get
        {
            ThrowIfDisposed();
            if (_memory is null) throw new InvalidOperationException($"SpikeTensor{Shape} is on the CPU; it has no device address.");
            return _memory.Address + (ulong)_wordOffset * sizeof(ulong);
        }
    }

    /// <summary>The number of rows: the product of every dimension except the last.</summary>
    public int RowCount { get; }

    /// <summary>The length of the last (packed) axis.</summary>
    public int RowLength { get; }

    /// <summary>The number of 64-bit words per row: <c>ceil(RowLength / 64)</c>.</summary>
    public int WordsPerRow { get; }

    /// <summary>The number of spikes the tensor can hold: the element count of <see cref="Shape"/>.</summary>
    public int Length => Shape.ElementCount;

    /// <summary>True once <see cref="Dispose"/> was called.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>The number of words needed for a row of <paramref name="rowLength"/> bits.</summary>
    public static int WordsFor(int rowLength) => (rowLength + 63) >> 6;

    /// <summary>A spike tensor with no spikes.</summary>
    public static SpikeTensor Zeros(Shape shape)
    {
        var words = checked(shape.RowCount * WordsFor(shape.Rank == 0 ? 1 : shape.LastDimension));
        return new SpikeTensor(PooledStorage<ulong>.Rent(words, clear: true), null, 0, shape);
    }

    /// <summary>A spike tensor with no spikes on <paramref name="device"/>.</summary>
    /// <exception cref="InvalidOperationException">No backend is registered for the device.</exception>
    public static SpikeTensor Zeros(Shape shape, Device device)
    {
        if (device.Kind == DeviceKind.Cpu) return Zeros(shape);
        var backend = (DeviceBackend)ComputeBackend.For(device);
        long bytes = checked((long)shape.RowCount * WordsFor(shape.Rank == 0 ? 1 : shape.LastDimension) * sizeof(ulong));
        var result = new SpikeTensor(null, backend.Allocate(bytes), 0, shape);
        backend.ClearMemory(result.DeviceAddress, bytes);
        return result;
    }

    /// <summary>
    /// This tensor's bits on <paramref name="device"/>: a copy when the device differs, else a new view of the same
    /// storage; the caller owns the result.
    /// </summary>
    public SpikeTensor To(Device device)
    {
        ThrowIfDisposed();
        if (device == Device) return View(_wordOffset, Shape);
        if (_memory is not null && device.Kind != DeviceKind.Cpu)
        {
            using var host = To(Device.Cpu);
            return host.To(device);
        }
        var result = Zeros(Shape, device);
        long bytes = (long)RowCount * WordsPerRow * sizeof(ulong);
        if (_memory is null) ((DeviceBackend)result.Backend).CopyFromHost(MemoryMarshal.AsBytes((ReadOnlySpan<ulong>)Words), result.DeviceAddress);
        else _memory.Backend.CopyToHost(DeviceAddress, MemoryMarshal.AsBytes(result.Words)[..(int)bytes]);
        return result;
    }

    /// <summary>A spike tensor with no spikes and the given dimensions.</summary>
    public static SpikeTensor Zeros(params int[] dims) => Zeros(new Shape(dims));

    /// <summary>
    /// Spikes where <c>values[i] &gt;= threshold</c> (NaN gives no spike), packed straight from a SIMD
    /// compare; no float 0/1 tensor is made.
    /// </summary>
    public static SpikeTensor FromThreshold(Tensor values, float threshold)
    {
        TensorChecks.Live(values, nameof(values));
        var result = Zeros(values.Shape);
        BitPack.PackGreaterOrEqual(values.AsReadOnlySpan(), result.RowLength, threshold, result.Words);
        return result;
    }

    /// <summary>Spikes from a float tensor of zeros and ones (any value &gt;= 0.5 is a spike).</summary>
    public static SpikeTensor FromBinary(Tensor values) => FromThreshold(values, 0.5f);

    /// <summary>The packed words of all rows, for reading and writing; padding bits must stay zero.</summary>
    public Span<ulong> Words
    {
        get
        {
            ThrowIfDisposed();
            var storage = _storage ?? throw new InvalidOperationException(
                $"SpikeTensor{Shape} is on {Device}; its words are not in host memory. Copy it with To(Device.Cpu) first.");
            return storage.Array.AsSpan(_wordOffset, RowCount * WordsPerRow);
        }
    }

    /// <summary>The packed words of one row.</summary>
    public ReadOnlySpan<ulong> Row(int row)
    {
        if ((uint)row >= (uint)RowCount) throw new ArgumentOutOfRangeException(nameof(row), row, $"Row {row} is outside [0, {RowCount}) for shape {Shape}.");
        return Words.Slice(row * WordsPerRow, WordsPerRow);
    }

    /// <summary>The spike at a full index, outermost first.</summary>
    public bool this[params ReadOnlySpan<int> index]
    {
        get
        {
            var (word, bit) = Locate(index);
            return (Words[word] >> bit & 1) != 0;
        }
        set
        {
            var (word, bit) = Locate(index);
            var words = Words;
            if (value) words[word] |= 1UL << bit;
            else words[word] &= ~(1UL << bit);
        }
    }

    /// <summary>Writes 1.0f for each spike and 0.0f elsewhere into <paramref name="destination"/>.</summary>
    public void UnpackTo(Span<float> destination)
    {
        if (destination.Length != Length)
        {
            throw new ArgumentException($"Destination holds {destination.Length} floats; shape {Shape} needs {Length}.", nameof(destination));
        }
        BitPack.Unpack(Words, RowLength, destination);
    }

    /// <summary>Unpacks into a new float tensor of zeros and ones. This is the explicit bits-to-float conversion.</summary>
    public Tensor ToTensor()
    {
        var t = Tensor.Empty(Shape);
        UnpackTo(t.AsSpan());
        return t;
    }

    /// <summary>The total number of spikes.</summary>
    public long PopCount()
    {
        if (_memory is not null)
        {
            using var host = To(Device.Cpu);
            return host.PopCount();
        }
        long total = 0;
        foreach (ulong w in Words) total += BitOperations.PopCount(w);
        return total;
    }

    /// <summary>The number of spikes in each row.</summary>
    public void RowPopCounts(Span<int> counts)
    {
        if (counts.Length != RowCount)
        {
            throw new ArgumentException($"Counts holds {counts.Length} entries; shape {Shape} has {RowCount} rows.", nameof(counts));
        }
        var words = Words;
        for (int r = 0; r < RowCount; r++)
        {
            int c = 0;
            foreach (ulong w in words.Slice(r * WordsPerRow, WordsPerRow)) c += BitOperations.PopCount(w);
            counts[r] = c;
        }
    }

    /// <summary>The fraction of elements that spiked (0 for an empty tensor).</summary>
    public double FiringRate => Length == 0 ? 0 : (double)PopCount() / Length;

    /// <summary>The elementwise AND of two spike tensors of the same shape.</summary>
    public SpikeTensor And(SpikeTensor other) => Combine(other, nameof(other), BitwiseOp.And);

    /// <summary>The elementwise OR of two spike tensors of the same shape.</summary>
    public SpikeTensor Or(SpikeTensor other) => Combine(other, nameof(other), BitwiseOp.Or);

    /// <summary>The elementwise XOR of two spike tensors of the same shape.</summary>
    public SpikeTensor Xor(SpikeTensor other) => Combine(other, nameof(other), BitwiseOp.Xor);

    /// <summary>The elementwise NOT; padding bits stay zero.</summary>
    public SpikeTensor Not()
    {
        var result = Zeros(Shape);
        var src = Words;
        var dst = result.Words;
        ulong lastMask = BitPack.LastWordMask(RowLength);
        for (int r = 0; r < RowCount; r++)
        {
            int o = r * WordsPerRow;
            for (int w = 0; w < WordsPerRow; w++) dst[o + w] = ~src[o + w];
            if (WordsPerRow > 0) dst[o + WordsPerRow - 1] &= lastMask;
        }
        return result;
    }

    /// <summary>The elementwise AND of two spike tensors.</summary>
    public static SpikeTensor operator &(SpikeTensor left, SpikeTensor right) => left.And(right);

    /// <summary>The elementwise OR of two spike tensors.</summary>
    public static SpikeTensor operator |(SpikeTensor left, SpikeTensor right) => left.Or(right);

    /// <summary>The elementwise XOR of two spike tensors.</summary>
    public static SpikeTensor operator ^(SpikeTensor left, SpikeTensor right) => left.Xor(right);

    /// <summary>The elementwise NOT.</summary>
    public static SpikeTensor operator ~(SpikeTensor value) => value.Not();

    /// <summary>A view of time step <paramref name="index"/> (the leading axis); no copy. Needs rank 2 or more.</summary>
    public SpikeTensor this[int index]
    {
        get
        {
            RequireTimeAxis();
            if ((uint)index >= (uint)Shape[0])
            {
                throw new ArgumentOutOfRangeException(nameof(index), index, $"Index {index} is outside the leading dimension of shape {Shape}.");
            }
            var inner = Shape.DropLeading();
            return View(_wordOffset + index * inner.RowCount * WordsPerRow, inner);
        }
    }

    /// <summary>A view of time steps <c>[start, start + length)</c>; no copy. Needs rank 2 or more.</summary>
    public SpikeTensor Slice(int start, int length)
    {
        RequireTimeAxis();
        if (start < 0 || length < 0 || length > Shape[0] - start)
        {
            throw new ArgumentOutOfRangeException(nameof(start),
                $"Slice [{start}, {(long)start + length}) is outside the leading dimension of shape {Shape} (size {Shape[0]}).");
        }
        int rowsPerStep = Shape.ProductOfLeading(Shape.Rank - 1) / Math.Max(1, Shape[0]);
        return View(_wordOffset + start * rowsPerStep * WordsPerRow, Shape.WithDimension(0, length));
    }

    /// <summary>
    /// A view with other leading dimensions and the same last (packed) dimension, such as folding
    /// <c>[T, B, N]</c> into <c>[T*B, N]</c>; no copy. One leading dimension may be -1.
    /// </summary>
    /// <exception cref="ArgumentException">The last dimension changes or the element count differs.</exception>
    public SpikeTensor Reshape(params int[] dims)
    {
        ThrowIfDisposed();
        var shape = Shape.Resolve(dims, Shape, nameof(dims));
        if (shape.Rank == 0 || shape.LastDimension != RowLength)
        {
            throw new ArgumentException(
                $"A spike tensor reshape must keep the packed last dimension {RowLength}: {Shape} cannot become {shape} without repacking.", nameof(dims));
        }
        return View(_wordOffset, shape);
    }

    /// <summary>A new spike tensor with a copy of the bits.</summary>
    public SpikeTensor Clone()
    {
        if (_memory is not null)
        {
            var copy = Zeros(Shape, Device);
            _memory.Backend.CopyOnDevice(DeviceAddress, copy.DeviceAddress, (long)RowCount * WordsPerRow * sizeof(ulong));
            return copy;
        }
        var result = Zeros(Shape);
        Words.CopyTo(result.Words);
        return result;
    }

    /// <summary>Releases this tensor's hold on its storage.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (_memory is null) _storage!.Release();
        else _memory.Release();
    }

    /// <summary>Formats the shape and firing rate.</summary>
    public override string ToString() =>
        IsDisposed ? $"SpikeTensor{Shape} (disposed)" : _memory is not null ? $"SpikeTensor{Shape} on {Device}" : $"SpikeTensor{Shape} rate={FiringRate:F4}";

    private enum BitwiseOp { And, Or, Xor }

    private SpikeTensor Combine(SpikeTensor other, string paramName, BitwiseOp op)
    {
        ThrowIfDisposed();
        TensorChecks.Live(other, paramName);
        if (other.Shape != Shape)
        {
            throw new ArgumentException($"'{paramName}' has shape {other.Shape}; expected {Shape}.", paramName);
        }
        var result = Zeros(Shape);
        ReadOnlySpan<ulong> a = Words, b = other.Words;
        var d = result.Words;
        switch (op)
        {
            case BitwiseOp.And: for (int i = 0; i < d.Length; i++) d[i] = a[i] & b[i]; break;
            case BitwiseOp.Or: for (int i = 0; i < d.Length; i++) d[i] = a[i] | b[i]; break;
            default: for (int i = 0; i < d.Length; i++) d[i] = a[i] ^ b[i]; break;
        }
        return result;
    }

    private SpikeTensor View(int wordOffset, Shape shape)
    {
        ThrowIfDisposed();
        if (_memory is not null)
        {
            _memory.AddReference();
            return new SpikeTensor(null, _memory, wordOffset, shape);
        }
        _storage!.AddReference();
        return new SpikeTensor(_storage, null, wordOffset, shape);
    }

    private void RequireTimeAxis()
    {
        ThrowIfDisposed();
        if (Shape.Rank < 2) throw new InvalidOperationException($"Shape {Shape} has no time axis beside its packed axis; indexing by step needs rank 2 or more.");
    }

    private (int Word, int Bit) Locate(ReadOnlySpan<int> index)
    {
        if (index.Length != Shape.Rank)
        {
            throw new ArgumentException($"Index {Shape.Format(index)} has rank {index.Length}; shape {Shape} needs {Shape.Rank}.", nameof(index));
        }
        int row = 0;
        for (int i = 0; i < index.Length; i++)
        {
            if ((uint)index[i] >= (uint)Shape[i])
            {
                throw new ArgumentException($"Index {Shape.Format(index)} is out of range for shape {Shape} at axis {i}.", nameof(index));
            }
            if (i < index.Length - 1) row = row * Shape[i] + index[i];
        }
        int col = index[^1];
        return (row * WordsPerRow + (col >> 6), col & 63);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(IsDisposed, this);
}
