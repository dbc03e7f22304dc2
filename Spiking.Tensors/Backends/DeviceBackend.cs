using System;

namespace Spiking.Tensors.Backends;

/// <summary>
/// A backend whose tensors live in an accelerator's own memory: <see cref="ComputeBackend"/>'s kernels plus
/// allocation and the copies between host and device. All operations are ordered on one stream of the backend;
/// copies to the host wait for the work queued before them, so a caller never sees a half-computed tensor.
/// </summary>
public abstract class DeviceBackend : ComputeBackend
{
    /// <summary>Allocates at least <paramref name="bytes"/> bytes of device memory (contents unspecified).</summary>
    /// <exception cref="OutOfMemoryException">The device has no room left, even after the pool gave back its cached blocks.</exception>
    public abstract DeviceMemory Allocate(long bytes);

    /// <summary>Copies <paramref name="source"/> from the host to the device address <paramref name="destination"/>.</summary>
    public abstract void CopyFromHost(ReadOnlySpan<byte> source, ulong destination);

    /// <summary>Copies <paramref name="destination"/>.Length bytes from the device address <paramref name="source"/> to the host, after the queued work.</summary>
    public abstract void CopyToHost(ulong source, Span<byte> destination);

    /// <summary>Copies <paramref name="bytes"/> bytes between two device addresses.</summary>
    public abstract void CopyOnDevice(ulong source, ulong destination, long bytes);

    /// <summary>Sets <paramref name="bytes"/> bytes from <paramref name="destination"/> on to zero.</summary>
    public abstract void ClearMemory(ulong destination, long bytes);

    /// <summary>Waits until every queued operation has finished.</summary>
    public abstract void Synchronize();
}
