using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Threading;
using Spiking.Gpu.Interop;

namespace Spiking.Gpu;

/// <summary>
/// A caching allocator over <c>cuMemAlloc</c>, after PyTorch's: requests are rounded up to a size class (512-byte
/// steps up to 1 MiB, then 2 MiB steps), a released block is kept in its class's free list, and the next request of
/// that class takes it, so a training loop whose tensors have the same sizes every step stops calling the driver
/// after its first step. On out-of-memory the cached blocks are handed back to the driver and the allocation tried
/// once more. Reuse is safe without events because the backend orders all work on one stream: a kernel that wrote
/// a block before its release runs before any kernel queued by its next owner.
/// </summary>
public sealed class CudaMemoryPool
{
    /// <summary>The step of the small size classes.</summary>
    public const long SmallGranularity = 512;

    /// <summary>Requests up to this size use the small steps.</summary>
    public const long SmallLimit = 1 << 20;

    /// <summary>The step of the large size classes.</summary>
    public const long LargeGranularity = 2 << 20;

    private readonly object _gate = new();
    private readonly CudaDriver _driver;
    private readonly Action _makeCurrent;
    private readonly Action _drain;
    private readonly Dictionary<long, Stack<ulong>> _free = [];
    private long _allocations;
    private long _hits;
    private long _cachedBytes;
    private long _bytesInUse;
    private bool _closed;

    /// <param name="driver">The driver.</param>
    /// <param name="makeCurrent">Makes the backend's context current on the calling thread.</param>
    /// <param name="drain">Makes the context current and waits for the backend's stream, so no queued kernel still uses a block about to be freed.</param>
    internal CudaMemoryPool(CudaDriver driver, Action makeCurrent, Action drain)
    {
        _driver = driver;
        _makeCurrent = makeCurrent;
        _drain = drain;
    }

    /// <summary>The number of blocks obtained from <c>cuMemAlloc</c> so far.</summary>
    public long Allocations => Interlocked.Read(ref _allocations);

    /// <summary>The number of requests served from the cache.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>The bytes held in free lists, ready for reuse.</summary>
    public long CachedBytes => Interlocked.Read(ref _cachedBytes);

    /// <summary>The bytes of blocks currently rented out (rounded sizes).</summary>
    public long BytesInUse => Interlocked.Read(ref _bytesInUse);

    /// <summary>The size class of a request of <paramref name="bytes"/> bytes (at least one small step, so every block has an address).</summary>
    public static long RoundUp(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (bytes <= SmallLimit) return Math.Max(SmallGranularity, (bytes + SmallGranularity - 1) / SmallGranularity * SmallGranularity);
        return (bytes + LargeGranularity - 1) / LargeGranularity * LargeGranularity;
    }

    /// <summary>Hands every cached block back to the driver (blocks in use stay).</summary>
    public void ReleaseCached()
    {
        lock (_gate)
        {
            if (CachedBytes == 0) return;
            _drain();
            foreach (var (size, blocks) in _free)
            {
                while (blocks.TryPop(out ulong address))
                {
                    _driver.MemFree(address);
                    Interlocked.Add(ref _cachedBytes, -size);
                }
            }
        }
    }

    /// <summary>A block of at least <paramref name="bytes"/> bytes and its size class.</summary>
    /// <exception cref="OutOfMemoryException">The device is full even after the cache was released.</exception>
    [SuppressMessage("Usage", "CA2201", Justification = "DeviceBackend.Allocate documents OutOfMemoryException, so callers catch one type for host and device memory.")]
    internal ulong Rent(long bytes, out long size)
    {
        size = RoundUp(bytes);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            if (_free.TryGetValue(size, out var blocks) && blocks.TryPop(out ulong cached))
            {
                Interlocked.Increment(ref _hits);
                Interlocked.Add(ref _cachedBytes, -size);
                Interlocked.Add(ref _bytesInUse, size);
                return cached;
            }
            _makeCurrent();
            int result = _driver.TryMemAlloc(size, out ulong address);
            if (result == CudaException.OutOfMemory)
            {
                ReleaseCached();
                result = _driver.TryMemAlloc(size, out address);
            }
            if (result == CudaException.OutOfMemory)
            {
                var (name, description) = _driver.Describe(result);
                var (free, total) = _driver.MemoryInfo();
                throw new OutOfMemoryException(
                    $"The CUDA device has no room for {size} bytes: {free} of {total} bytes free, {BytesInUse} held by tensors, the pool's cache released.",
                    new CudaException($"cuMemAlloc_v2({size} bytes)", result, name, description));
            }
            _driver.Check(result, $"cuMemAlloc_v2({size} bytes)");
            Interlocked.Increment(ref _allocations);
            Interlocked.Add(ref _bytesInUse, size);
            return address;
        }
    }

    /// <summary>Takes back a block rented with size class <paramref name="size"/>.</summary>
    internal void Return(ulong address, long size)
    {
        lock (_gate)
        {
            // After the backend closed, its context is gone and so are the blocks; nothing is left to cache or free.
            if (_closed) return;
            Interlocked.Add(ref _bytesInUse, -size);
            if (!_free.TryGetValue(size, out var blocks)) _free[size] = blocks = new Stack<ulong>();
            blocks.Push(address);
            Interlocked.Add(ref _cachedBytes, size);
        }
    }

    /// <summary>Frees the cache and stops caching; called by the backend before it releases its context.</summary>
    internal void Close()
    {
        lock (_gate)
        {
            ReleaseCached();
            _closed = true;
        }
    }
}
