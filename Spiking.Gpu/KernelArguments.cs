using System;
using Spiking.Gpu.Interop;

namespace Spiking.Gpu;

/// <summary>
/// The parameters of one kernel launch, packed on the caller's stack: each value sits in an 8-byte slot (a 4-byte
/// value in its low half, which is its address on the little-endian machines CUDA runs on), and the pointer array
/// <c>cuLaunchKernel</c> reads is built over the slots at launch, so a launch allocates nothing.
/// </summary>
internal unsafe struct KernelArguments
{
    private const int Capacity = 16;
    private fixed ulong _slots[Capacity];
    private int _count;

    /// <summary>Adds a device pointer or a 64-bit integer.</summary>
    public void Add(ulong value)
    {
        if (_count == Capacity) throw new InvalidOperationException($"A kernel launch takes at most {Capacity} arguments.");
        _slots[_count++] = value;
    }

    /// <summary>Adds a 32-bit integer.</summary>
    public void Add(int value) => Add((ulong)(uint)value);

    /// <summary>Adds a 32-bit unsigned integer.</summary>
    public void Add(uint value) => Add((ulong)value);

    /// <summary>Adds a float.</summary>
    public void Add(float value) => Add((ulong)BitConverter.SingleToUInt32Bits(value));

    /// <summary>Adds a double.</summary>
    public void Add(double value) => Add(BitConverter.DoubleToUInt64Bits(value));

    /// <summary>Launches <paramref name="function"/> with these arguments on <paramref name="stream"/>.</summary>
    public void Launch(CudaDriver driver, IntPtr function, string name, uint gridX, uint gridY, uint block, IntPtr stream)
    {
        void** pointers = stackalloc void*[Capacity];
        fixed (ulong* slots = _slots)
        {
            for (int i = 0; i < _count; i++) pointers[i] = slots + i;
            driver.LaunchKernel(function, name, gridX, gridY, block, stream, pointers);
        }
    }
}
