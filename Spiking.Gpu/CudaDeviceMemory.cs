using Spiking.Tensors.Backends;

namespace Spiking.Gpu;

/// <summary>A block of the <see cref="CudaMemoryPool"/> held by a tensor; the last release puts it back in the pool.</summary>
internal sealed class CudaDeviceMemory : DeviceMemory
{
    private readonly CudaMemoryPool _pool;
    private readonly ulong _address;
    private readonly long _size;

    public CudaDeviceMemory(DeviceBackend backend, CudaMemoryPool pool, long bytes)
        : base(backend, bytes)
    {
        _pool = pool;
        _address = pool.Rent(bytes, out _size);
    }

    /// <inheritdoc/>
    public override ulong Address => _address;

    /// <inheritdoc/>
    protected override void Free() => _pool.Return(_address, _size);
}
