using System;
using System.Runtime.CompilerServices;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// A byte buffer on the pinned heap whose first byte is 64-byte aligned, for packed weights a kernel reads for its
/// whole life. An array's elements start 16 bytes into the object, so a 32- or 64-byte vector load from a plain array
/// straddles two cache lines every other time: 16 bytes off alignment, the int8 spike kernel ran 1.5× slower
/// (3136×256×256, rate 0.3, one thread; the counts kernels barely changed).
/// </summary>
internal sealed unsafe class AlignedBytes
{
    private const int Alignment = 64;
    private readonly byte[] _array;
    private readonly int _offset;

    public AlignedBytes(long length)
    {
        if (length > Array.MaxLength - Alignment) throw new ArgumentOutOfRangeException(nameof(length), $"{length} bytes of packed weights exceed one array.");
        Length = (int)length;
        _array = GC.AllocateArray<byte>(Length + Alignment, pinned: true);
        _offset = (int)((Alignment - ((nint)Unsafe.AsPointer(ref _array[0]) & (Alignment - 1))) & (Alignment - 1));
        Pointer = (byte*)Unsafe.AsPointer(ref _array[_offset]);
    }

    /// <summary>The number of bytes.</summary>
    public int Length { get; }

    /// <summary>The first byte; valid while this object lives (the array never moves).</summary>
    public byte* Pointer { get; }

    /// <summary>The bytes.</summary>
    public Span<byte> Span => _array.AsSpan(_offset, Length);
}
