using System;
using System.Threading;

namespace Spiking.Tensors.Backends;

/// <summary>
/// One allocation in an accelerator's memory, shared by a tensor and its views as <see cref="Tensor"/> shares host
/// storage: each holder takes a reference and the last release hands the memory back to its backend (which may keep
/// it in a caching pool rather than free it).
/// </summary>
public abstract class DeviceMemory
{
    private int _references = 1;
    private int _version;
    private int _released;

    /// <summary>Wraps an allocation of <paramref name="bytes"/> bytes made by <paramref name="backend"/>.</summary>
    protected DeviceMemory(DeviceBackend backend, long bytes)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        Backend = backend;
        Bytes = bytes;
    }

    /// <summary>The backend that owns the allocation.</summary>
    public DeviceBackend Backend { get; }

    /// <summary>The usable size in bytes.</summary>
    public long Bytes { get; }

    /// <summary>The device address of the first byte.</summary>
    public abstract ulong Address { get; }

    /// <summary>True once the last holder released the memory.</summary>
    public bool IsReleased => Volatile.Read(ref _released) != 0;

    /// <summary>
    /// The version <see cref="Tensor.Version"/> reports for device tensors: device kernels write through raw addresses,
    /// so only <see cref="MarkWritten"/> advances it.
    /// </summary>
    public int Version => Volatile.Read(ref _version);

    /// <summary>Records a write that caches derived from the memory must see (a parameter updated in place).</summary>
    public void MarkWritten() => Interlocked.Increment(ref _version);

    /// <summary>Gives the memory back to the backend; called once, when the last holder releases it.</summary>
    protected abstract void Free();

    internal void AddReference()
    {
        if (Interlocked.Increment(ref _references) <= 1)
        {
            throw new ObjectDisposedException(nameof(DeviceMemory), "The device memory was already released.");
        }
    }

    internal void Release()
    {
        if (Interlocked.Decrement(ref _references) != 0) return;
        if (Interlocked.Exchange(ref _released, 1) == 0) Free();
    }
}
