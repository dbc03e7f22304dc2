using System;
using System.Buffers;
using System.Threading;

namespace Spiking.Tensors;

/// <summary>
/// A buffer rented from <see cref="ArrayPool{T}.Shared"/> and shared by a tensor and its views. Each holder
/// takes a reference; the array goes back to the pool when the last holder releases it, so a view can outlive
/// the tensor it was taken from without reading returned memory.
/// </summary>
internal sealed class PooledStorage<T>
{
    private T[]? _array;
    private int _references = 1;
    private int _version;

    private PooledStorage(T[] array, int length)
    {
        _array = array;
        Length = length;
    }

    public int Length { get; }

    public T[] Array => _array ?? throw new ObjectDisposedException(nameof(PooledStorage<T>), "The tensor storage was returned to the pool.");

    public bool IsReleased => Volatile.Read(ref _array) is null;

    /// <summary>
    /// Counts the times mutable access to any part of the buffer was handed out, by the tensor or any of its views,
    /// so a cache keyed on it sees writes made through a view too.
    /// </summary>
    public int Version => Volatile.Read(ref _version);

    public void IncrementVersion() => Interlocked.Increment(ref _version);

    public static PooledStorage<T> Rent(int length, bool clear)
    {
        var array = length == 0 ? System.Array.Empty<T>() : ArrayPool<T>.Shared.Rent(length);
        if (clear) System.Array.Clear(array, 0, length);
        return new PooledStorage<T>(array, length);
    }

    public void AddReference()
    {
        if (Interlocked.Increment(ref _references) <= 1)
        {
            throw new ObjectDisposedException(nameof(PooledStorage<T>), "The tensor storage was already returned to the pool.");
        }
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) != 0) return;
        var array = Interlocked.Exchange(ref _array, null);
        if (array is { Length: > 0 }) ArrayPool<T>.Shared.Return(array);
    }
}
