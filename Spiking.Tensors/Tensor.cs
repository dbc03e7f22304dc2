using System;
using System.Threading;

namespace Spiking.Tensors;

/// <summary>
/// A dense float32 tensor, contiguous and row-major, whose storage is rented from a pool.
/// Views (<see cref="this[int]"/>, <see cref="Slice"/>, <see cref="Reshape(int[])"/>) share the storage without
/// copying; the storage returns to the pool when the tensor and all its views are disposed.
/// </summary>
/// <remarks>
/// A tensor passed as an argument after it was disposed raises <see cref="ArgumentException"/> naming the
/// argument; a member called on a disposed tensor raises <see cref="ObjectDisposedException"/>.
/// <see cref="Version"/> counts the times mutable access was handed out, so caches derived from a tensor
/// (a transposed weight copy, say) can tell when it may have changed.
/// </remarks>
public sealed partial class Tensor : IDisposable
{
    private readonly PooledStorage<float> _storage;
    private readonly int _offset;
    private int _disposed;

    private Tensor(PooledStorage<float> storage, int offset, Shape shape)
    {
        _storage = storage;
        _offset = offset;
        Shape = shape;
    }

    /// <summary>The dimensions of this tensor.</summary>
    public Shape Shape { get; }

    /// <summary>The device that holds the storage.</summary>
    public Device Device { get; } = Device.Cpu;

    /// <summary>The number of elements.</summary>
    public int Length => Shape.ElementCount;

    /// <summary>The number of dimensions.</summary>
    public int Rank => Shape.Rank;

    /// <summary>True once <see cref="Dispose"/> was called.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>
    /// Incremented whenever mutable access to the elements is handed out, through this tensor or through any view
    /// sharing its storage (a write through <c>weight[0].AsSpan()</c> changes the weight too).
    /// </summary>
    public int Version => _storage.Version;

    /// <summary>A tensor of the given shape whose contents are unspecified (pooled memory is not cleared).</summary>
    public static Tensor Empty(Shape shape) => new(PooledStorage<float>.Rent(shape.ElementCount, clear: false), 0, shape);

    /// <summary>A tensor of the given dimensions whose contents are unspecified.</summary>
    public static Tensor Empty(params int[] dims) => Empty(new Shape(dims));

    /// <summary>A tensor of zeros.</summary>
    public static Tensor Zeros(Shape shape) => new(PooledStorage<float>.Rent(shape.ElementCount, clear: true), 0, shape);

    /// <summary>A tensor of zeros with the given dimensions.</summary>
    public static Tensor Zeros(params int[] dims) => Zeros(new Shape(dims));

    /// <summary>A tensor with every element equal to <paramref name="value"/>.</summary>
    public static Tensor Full(Shape shape, float value)
    {
        var t = Empty(shape);
        t.AsSpan().Fill(value);
        return t;
    }

    /// <summary>A tensor of ones.</summary>
    public static Tensor Ones(Shape shape) => Full(shape, 1f);

    /// <summary>A scalar (rank-0) tensor.</summary>
    public static Tensor Scalar(float value) => Full(new Shape(), value);

    /// <summary>A tensor holding a copy of <paramref name="values"/>, viewed with <paramref name="shape"/>.</summary>
    /// <exception cref="ArgumentException">The number of values differs from the shape's element count.</exception>
    public static Tensor FromSpan(ReadOnlySpan<float> values, Shape shape)
    {
        if (values.Length != shape.ElementCount)
        {
            throw new ArgumentException(
                $"{values.Length} values cannot fill shape {shape}, which holds {shape.ElementCount}.", nameof(values));
        }
        var t = Empty(shape);
        values.CopyTo(t.AsSpan());
        return t;
    }

    /// <summary>A tensor holding a copy of <paramref name="values"/> with the given dimensions.</summary>
    public static Tensor FromArray(float[] values, params int[] dims) => FromSpan(values, new Shape(dims));

    /// <summary>The elements, for reading and writing. Taking it increments <see cref="Version"/>.</summary>
    public Span<float> AsSpan()
    {
        ThrowIfDisposed();
        _storage.IncrementVersion();
        return _storage.Array.AsSpan(_offset, Length);
    }

    /// <summary>The elements, read-only.</summary>
    public ReadOnlySpan<float> AsReadOnlySpan()
    {
        ThrowIfDisposed();
        return _storage.Array.AsSpan(_offset, Length);
    }

    /// <summary>A copy of the elements in row-major order.</summary>
    public float[] ToArray() => AsReadOnlySpan().ToArray();

    /// <summary>The element at a full index, outermost first.</summary>
    /// <exception cref="ArgumentException">The index has the wrong rank or a component out of range.</exception>
    public float GetValue(params ReadOnlySpan<int> index) => AsReadOnlySpan()[FlatIndex(index)];

    /// <summary>Sets the element at a full index, outermost first.</summary>
    public void SetValue(float value, params ReadOnlySpan<int> index) => AsSpan()[FlatIndex(index)] = value;

    /// <summary>The single value of a one-element tensor.</summary>
    /// <exception cref="InvalidOperationException">The tensor has more than one element.</exception>
    public float ToScalar()
    {
        if (Length != 1) throw new InvalidOperationException($"ToScalar() needs a one-element tensor; this one has shape {Shape}.");
        return AsReadOnlySpan()[0];
    }

    /// <summary>A view of step <paramref name="index"/> along the leading (time) axis; no copy.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is outside the leading dimension.</exception>
    public Tensor this[int index]
    {
        get
        {
            ThrowIfDisposed();
            RequireLeadingAxis();
            if ((uint)index >= (uint)Shape[0])
            {
                throw new ArgumentOutOfRangeException(nameof(index), index, $"Index {index} is outside the leading dimension of shape {Shape}.");
            }
            var inner = Shape.DropLeading();
            return View(_offset + index * inner.ElementCount, inner);
        }
    }

    /// <summary>A view of steps <c>[start, start + length)</c> along the leading axis; no copy.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range leaves the leading dimension.</exception>
    public Tensor Slice(int start, int length)
    {
        ThrowIfDisposed();
        RequireLeadingAxis();
        if (start < 0 || length < 0 || length > Shape[0] - start)
        {
            throw new ArgumentOutOfRangeException(nameof(start),
                $"Slice [{start}, {(long)start + length}) is outside the leading dimension of shape {Shape} (size {Shape[0]}).");
        }
        int stride = Shape.ProductOfTrailing(1);
        return View(_offset + start * stride, Shape.WithDimension(0, length));
    }

    /// <summary>A view with other dimensions and the same element count; one dimension may be -1.</summary>
    /// <exception cref="ArgumentException">The requested shape holds a different number of elements.</exception>
    public Tensor Reshape(params int[] dims)
    {
        ThrowIfDisposed();
        return View(_offset, Shape.Resolve(dims, Shape, nameof(dims)));
    }

    /// <summary>A view with another shape of the same element count.</summary>
    public Tensor Reshape(Shape shape) => Reshape(shape.Dimensions.ToArray());

    /// <summary>A new tensor with a copy of the elements.</summary>
    public Tensor Clone() => FromSpan(AsReadOnlySpan(), Shape);

    /// <summary>Copies the elements into <paramref name="destination"/>, which must have the same shape.</summary>
    public void CopyTo(Tensor destination)
    {
        ThrowIfDisposed();
        TensorChecks.SameShape(this, destination, nameof(destination));
        AsReadOnlySpan().CopyTo(destination.AsSpan());
    }

    /// <summary>Sets every element to <paramref name="value"/>.</summary>
    public void Fill(float value) => AsSpan().Fill(value);

    /// <summary>Sets every element to zero.</summary>
    public void Clear() => AsSpan().Clear();

    /// <summary>Releases this tensor's hold on its storage; the storage returns to the pool when no view holds it.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) _storage.Release();
    }

    /// <summary>Formats the shape and, for small tensors, the values.</summary>
    public override string ToString()
    {
        if (IsDisposed) return $"Tensor{Shape} (disposed)";
        if (Length > 16) return $"Tensor{Shape}";
        return $"Tensor{Shape} [{string.Join(", ", AsReadOnlySpan().ToArray())}]";
    }

    internal float[] StorageArray => _storage.Array;

    internal int StorageOffset => _offset;

    private Tensor View(int offset, Shape shape)
    {
        _storage.AddReference();
        return new Tensor(_storage, offset, shape);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(IsDisposed, this);

    private void RequireLeadingAxis()
    {
        if (Rank == 0) throw new InvalidOperationException("A scalar tensor has no leading axis to index or slice.");
    }

    private int FlatIndex(ReadOnlySpan<int> index)
    {
        if (index.Length != Rank)
        {
            throw new ArgumentException($"Index {Shape.Format(index)} has rank {index.Length}; shape {Shape} needs {Rank}.", nameof(index));
        }
        int flat = 0;
        for (int i = 0; i < index.Length; i++)
        {
            if ((uint)index[i] >= (uint)Shape[i])
            {
                throw new ArgumentException($"Index {Shape.Format(index)} is out of range for shape {Shape} at axis {i}.", nameof(index));
            }
            flat = flat * Shape[i] + index[i];
        }
        return flat;
    }
}
