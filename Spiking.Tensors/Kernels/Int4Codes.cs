using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// Signed 4-bit weight codes (−8…7) two to a byte, the storage of a 4-bit quantized weight <c>[N, K]</c>: row-major,
/// each row starting on a byte (<c>⌈K/2⌉</c> bytes a row), code <c>2i</c> of a row in the low nibble of byte i and code
/// <c>2i + 1</c> in its high nibble, as two's complement; the last nibble of an odd-length row is 0. The packed-weight
/// file stores exactly these bytes, and <c>QuantizedLinearKernel.FromInt4</c> reads them.
/// </summary>
public static class Int4Codes
{
    /// <summary>The smallest 4-bit code.</summary>
    public const int MinCode = -8;

    /// <summary>The largest 4-bit code.</summary>
    public const int MaxCode = 7;

    /// <summary>Bytes of one packed row of <paramref name="length"/> codes: <c>⌈length/2⌉</c>.</summary>
    public static int RowBytes(int length) => (length + 1) >> 1;

    /// <summary>Packs <paramref name="codes"/> <c>[rows, length]</c> (each in −8…7) into <paramref name="packed"/> <c>[rows, ⌈length/2⌉]</c>.</summary>
    /// <exception cref="ArgumentException">A span's length does not match the dimensions.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A code lies outside −8…7 (the message names its row and column).</exception>
    public static void Pack(ReadOnlySpan<sbyte> codes, int rows, int length, Span<byte> packed)
    {
        CheckDims(rows, length);
        int rowBytes = RowBytes(length);
        if (codes.Length != (long)rows * length) throw new ArgumentException($"Codes hold {codes.Length} values; [{rows}, {length}] needs {(long)rows * length}.", nameof(codes));
        if (packed.Length != (long)rows * rowBytes) throw new ArgumentException($"Packed codes hold {packed.Length} bytes; [{rows}, {length}] at two codes a byte needs {(long)rows * rowBytes}.", nameof(packed));
        for (int r = 0; r < rows; r++)
        {
            var row = codes.Slice(r * length, length);
            var dst = packed.Slice(r * rowBytes, rowBytes);
            for (int c = 0; c < length; c++)
            {
                int v = row[c];
                if (v < MinCode || v > MaxCode) throw new ArgumentOutOfRangeException(nameof(codes), $"Code [{r}, {c}] is {v}; 4-bit codes lie in {MinCode}…{MaxCode}.");
            }
            for (int i = 0; i < length >> 1; i++) dst[i] = (byte)((row[2 * i] & 0xF) | (row[2 * i + 1] << 4));
            if ((length & 1) != 0) dst[rowBytes - 1] = (byte)(row[length - 1] & 0xF);
        }
    }

    /// <summary>Unpacks <paramref name="packed"/> <c>[rows, ⌈length/2⌉]</c> into <paramref name="codes"/> <c>[rows, length]</c>.</summary>
    /// <exception cref="ArgumentException">A span's length does not match the dimensions.</exception>
    public static void Unpack(ReadOnlySpan<byte> packed, int rows, int length, Span<sbyte> codes)
    {
        CheckDims(rows, length);
        int rowBytes = RowBytes(length);
        if (packed.Length != (long)rows * rowBytes) throw new ArgumentException($"Packed codes hold {packed.Length} bytes; [{rows}, {length}] at two codes a byte needs {(long)rows * rowBytes}.", nameof(packed));
        if (codes.Length != (long)rows * length) throw new ArgumentException($"Codes hold {codes.Length} values; [{rows}, {length}] needs {(long)rows * length}.", nameof(codes));
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < length; c++) codes[r * length + c] = Code(packed, length, r, c);
        }
    }

    /// <summary>Code <c>[row, column]</c> of packed codes whose rows hold <paramref name="length"/> codes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static sbyte Code(ReadOnlySpan<byte> packed, int length, int row, int column)
    {
        int b = packed[row * RowBytes(length) + (column >> 1)];
        return SignExtend((column & 1) == 0 ? b & 0xF : b >> 4);
    }

    /// <summary>A nibble 0…15 read as two's complement, −8…7.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static sbyte SignExtend(int nibble) => (sbyte)((nibble ^ 8) - 8);

    /// <summary>
    /// The kernels' internal form of a run of codes: blocks of 32 codes in 16 bytes, byte j holding code j of the
    /// block in its low nibble and code j + 16 in its high nibble, so that <see cref="ExpandBlocks(byte*, int, sbyte*)"/>
    /// widens a block with two vector operations and no shuffle. <paramref name="codes"/> holds a multiple of 32.
    /// </summary>
    internal static void PackBlocks(ReadOnlySpan<sbyte> codes, Span<byte> blocks)
    {
        for (int b = 0; b < codes.Length / 32; b++)
        {
            for (int j = 0; j < 16; j++) blocks[b * 16 + j] = (byte)((codes[b * 32 + j] & 0xF) | (codes[b * 32 + 16 + j] << 4));
        }
    }

    /// <summary>Expands <paramref name="blocks"/> blocks of <see cref="PackBlocks"/> into 32 int8 codes each.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe void ExpandBlocks(byte* packed, int blocks, sbyte* codes)
    {
        for (int b = 0; b < blocks; b++)
        {
            var (low, high) = Nibbles(Vector128.Load(packed + 16 * b));
            low.Store(codes + 32 * b);
            high.Store(codes + 32 * b + 16);
        }
    }

    /// <summary>Expands <paramref name="blocks"/> blocks of <see cref="PackBlocks"/> into 32 int16 codes each.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe void ExpandBlocks(byte* packed, int blocks, short* codes)
    {
        for (int b = 0; b < blocks; b++)
        {
            var (low, high) = Nibbles(Vector128.Load(packed + 16 * b));
            var (l0, l1) = Vector128.Widen(low);
            var (h0, h1) = Vector128.Widen(high);
            l0.Store(codes + 32 * b);
            l1.Store(codes + 32 * b + 8);
            h0.Store(codes + 32 * b + 16);
            h1.Store(codes + 32 * b + 24);
        }
    }

    /// <summary>The low and high nibbles of 16 bytes, sign-extended: <c>(n ^ 8) − 8</c> lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<sbyte> Low, Vector128<sbyte> High) Nibbles(Vector128<byte> bytes)
    {
        var mask = Vector128.Create((byte)0xF);
        var eight = Vector128.Create((byte)8);
        var low = ((bytes & mask) ^ eight) - eight;
        var high = (Vector128.ShiftRightLogical(bytes, 4) ^ eight) - eight;
        return (low.AsSByte(), high.AsSByte());
    }

    private static void CheckDims(int rows, int length)
    {
        if (rows < 0 || length < 0) throw new ArgumentOutOfRangeException(rows < 0 ? nameof(rows) : nameof(length), $"Dimensions [{rows}, {length}] must be non-negative.");
    }
}
