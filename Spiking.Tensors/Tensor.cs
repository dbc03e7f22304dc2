using System;
using System.Runtime.InteropServices;
using System.Threading;
using Spiking.Tensors.Backends;

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
    private readonly PooledStorage<float>? _storage;
    private readonly DeviceMemory? _memory;
    private readonly int _offset;
    private int _disposed;

    private Tensor(PooledStorage<float> storage, int offset, Shape shape)
    {
        _storage = storage;
        _offset = offset;
        Shape = shape;
    }

    private Tensor(DeviceMemory memory, int offset, Shape shape)
    {
        _memory = memory;
        _offset = offset;
        Shape = shape;
    }

    /// <summary>The dimensions of this tensor.</summary>
    public Shape Shape { get; }

    /// <summary>The device that holds the storage.</summary>
    public Device Device => _memory?.Backend.Device ?? Device.Cpu;

    /// <summary>The backend whose kernels compute on this tensor's device.</summary>
    public ComputeBackend Backend => _memory?.Backend ?? ComputeBackend.Cpu;

    /// <summary>True when the elements are in host memory, readable through <see cref="AsSpan"/>.</summary>
    public bool IsOnHost => _memory is null;

    /// <summary>
    /// The device address of this view's first element, for backends that launch kernels on it. Kernels read and
    /// write through it without counting in <see cref="Version"/>: on a device, only the op that owns a tensor writes it.
    /// </summary>
    /// <exception cref="InvalidOperationException">The tensor is in host memory.</exception>
    public ulong DeviceAddress
    {
        get
        {
            ThrowIfDisposed();
            if (_memory is null) throw new InvalidOperationException($"Tensor{Shape} is on the CPU; it has no device address.");
            return _memory.Address + (ulong)_offset * sizeof(float);
        }
    }

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
    public int Version => _storage?.Version ?? _memory!.Version;

    /// <summary>A tensor of the given shape whose contents are unspecified (pooled memory is not cleared).</summary>
    public static Tensor Empty(Shape shape) => new(PooledStorage<float>.Rent(shape.ElementCount, clear: false), 0, shape);

    /// <summary>A tensor of the given dimensions whose contents are unspecified.</summary>
    public static Tensor Empty(params int[] dims) => Empty(new Shape(dims));

    /// <summary>A tensor of zeros.</summary>
    public static Tensor Zeros(Shape shape) => new(PooledStorage<float>.Rent(shape.ElementCount, clear: true), 0, shape);

    /// <summary>A tensor of zeros with the given dimensions.</summary>
    public static Tensor Zeros(params int[] dims) => Zeros(new Shape(dims));

    /// <summary>A tensor on <paramref name="device"/> whose contents are unspecified.</summary>
    /// <exception cref="InvalidOperationException">No backend is registered for the device.</exception>
    public static Tensor Empty(Shape shape, Device device)
    {
        if (device.Kind == DeviceKind.Cpu) return Empty(shape);
        var backend = (DeviceBackend)ComputeBackend.For(device);
        return new Tensor(backend.Allocate((long)shape.ElementCount * sizeof(float)), 0, shape);
    }

    /// <summary>A tensor of zeros on <paramref name="device"/>.</summary>
    public static Tensor Zeros(Shape shape, Device device)
    {
        if (device.Kind == DeviceKind.Cpu) return Zeros(shape);
        var t = Empty(shape, device);
        t.Fill(0f);
        return t;
    }

    /// <summary>
    /// This tensor's elements on <paramref name="device"/>: a copy when the device differs, else a new view of the
    /// same storage. Either way the caller owns (and disposes) the result.
    /// </summary>
    public Tensor To(Device device)
    {
        ThrowIfDisposed();
        if (device == Device) return View(_offset, Shape);
        if (_memory is not null && device.Kind != DeviceKind.Cpu)
        {
            // Between two devices the copy goes through the host: no peer access is assumed.
            using var host = To(Device.Cpu);
            return host.To(device);
        }
        var result = Empty(Shape, device);
        if (_memory is null) ((DeviceBackend)result.Backend).CopyFromHost(MemoryMarshal.AsBytes(AsReadOnlySpan()), result.DeviceAddress);
        else _memory.Backend.CopyToHost(DeviceAddressForRead, MemoryMarshal.AsBytes(result.AsSpan()));
        return result;
    }

    /// <summary>A tensor with every element equal to <paramref name="value"/>.</summary>
    public static Tensor Full(Shape shape, float value)
    {
        var t = Empty(shape);
        t.AsSpan().Fill(value);
        return t;
    }

    /// <summary>A tensor on <paramref name="device"/> with every element equal to <paramref name="value"/>.</summary>
    public static Tensor Full(Shape shape, float value, Device device)
    {
        if (device.Kind == DeviceKind.Cpu) return Full(shape, value);
        var t = Empty(shape, device);
        t.Fill(value);
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
    /// <exception cref="InvalidOperationException">The tensor is on a device; copy it with <see cref="To"/> first.</exception>
    public Span<float> AsSpan()
    {
        var storage = HostStorage();
        storage.IncrementVersion();
        return storage.Array.AsSpan(_offset, Length);
    }

    /// <summary>The elements, read-only.</summary>
    /// <exception cref="InvalidOperationException">The tensor is on a device; copy it with <see cref="To"/> first.</exception>
    public ReadOnlySpan<float> AsReadOnlySpan() => HostStorage().Array.AsSpan(_offset, Length);

    /// <summary>A copy of the elements in row-major order (copied from the device when the tensor is on one).</summary>
    public float[] ToArray()
    {
        if (_memory is null) return AsReadOnlySpan().ToArray();
        ThrowIfDisposed();
        var values = new float[Length];
        _memory.Backend.CopyToHost(DeviceAddressForRead, MemoryMarshal.AsBytes(values.AsSpan()));
        return values;
    }

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
        return _memory is null ? AsReadOnlySpan()[0] : ToArray()[0];
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
    public Tensor Clone()
    {
        if (_memory is null) return FromSpan(AsReadOnlySpan(), Shape);
        var copy = Empty(Shape, Device);
        CopyTo(copy);
        return copy;
    }

    /// <summary>Copies the elements into <paramref name="destination"/>, which must have the same shape and device.</summary>
    public void CopyTo(Tensor destination)
    {
        ThrowIfDisposed();
        TensorChecks.SameShape(this, destination, nameof(destination));
        TensorChecks.SameDevice(this, destination, nameof(destination));
        if (_memory is null)
        {
            AsReadOnlySpan().CopyTo(destination.AsSpan());
        }
        else
        {
            _memory.Backend.CopyOnDevice(DeviceAddressForRead, destination.DeviceAddress, (long)Length * sizeof(float));
        }
    }

    /// <summary>Sets every element to <paramref name="value"/>.</summary>
    public void Fill(float value)
    {
        if (_memory is null) AsSpan().Fill(value);
        else _memory.Backend.Fill(this, value);
    }

    /// <summary>Sets every element to zero.</summary>
    public void Clear()
    {
        if (_memory is null) AsSpan().Clear();
        else _memory.Backend.ClearMemory(DeviceAddress, (long)Length * sizeof(float));
    }

    /// <summary>Releases this tensor's hold on its storage; the storage returns to the pool when no view holds it.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (_memory is null) _storage!.Release();
        else _memory.Release();
    }

    /// <summary>Formats the shape and, for small host tensors, the values.</summary>
    public override string ToString()
    {
        if (IsDisposed) return $"Tensor{Shape} (disposed)";
        if (_memory is not null) return $"Tensor{Shape} on {Device}";
        if (Length > 16) return $"Tensor{Shape}";
        return $"Tensor{Shape} [{string.Join(", ", AsReadOnlySpan().ToArray())}]";
    }

    internal float[] StorageArray => (_storage ?? throw new InvalidOperationException($"Tensor{Shape} is on {Device}; it has no host array.")).Array;

    internal int StorageOffset => _offset;

    /// <summary>The device address without counting a write, for reads.</summary>
    private ulong DeviceAddressForRead => _memory!.Address + (ulong)_offset * sizeof(float);

    private PooledStorage<float> HostStorage()
    {
        ThrowIfDisposed();
        return _storage ?? throw new InvalidOperationException(
            $"Tensor{Shape} is on {Device}; its elements are not in host memory. Copy it with To(Device.Cpu) first.");
    }

    private Tensor View(int offset, Shape shape)
    {
        if (_memory is not null)
        {
            _memory.AddReference();
            return new Tensor(_memory, offset, shape);
        }
        _storage!.AddReference();
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
