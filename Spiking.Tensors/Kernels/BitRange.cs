using System;
using System.Numerics;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// Reading and writing runs of bits at any offset in a packed spike row, for the sliding-window kernels that
/// work on bits directly. Positions outside the row read as zero, which is exactly zero padding.
/// </summary>
internal static class BitRange
{
    /// <summary>Bits <c>[start, start + length)</c> of <paramref name="row"/> in the low bits of the result; <paramref name="length"/> is 1 to 64 and <paramref name="start"/> may be negative.</summary>
    public static ulong Extract(ReadOnlySpan<ulong> row, int start, int length)
    {
        if (start < 0)
        {
            int skip = -start;
            if (skip >= length) return 0;
            return Extract(row, 0, length - skip) << skip;
        }
        int word = start >> 6, shift = start & 63;
        if (word >= row.Length) return 0;
        ulong bits = row[word] >> shift;
        if (shift != 0 && word + 1 < row.Length) bits |= row[word + 1] << (64 - shift);
        return length == 64 ? bits : bits & ((1UL << length) - 1);
    }

    /// <summary>ORs the low <paramref name="length"/> bits of <paramref name="bits"/> (1 to 64, higher bits zero) into <paramref name="row"/> at <paramref name="offset"/>.</summary>
    public static void Deposit(Span<ulong> row, int offset, ulong bits, int length)
    {
        int word = offset >> 6, shift = offset & 63;
        row[word] |= bits << shift;
        if (shift != 0 && shift + length > 64) row[word + 1] |= bits >> (64 - shift);
    }

    /// <summary>The offset from <paramref name="start"/> of the first set bit in <c>[start, start + length)</c>, or −1 when none is set.</summary>
    public static int FirstSet(ReadOnlySpan<ulong> row, int start, int length)
    {
        for (int done = 0; done < length; done += 64)
        {
            ulong bits = Extract(row, start + done, Math.Min(64, length - done));
            if (bits != 0) return done + BitOperations.TrailingZeroCount(bits);
        }
        return -1;
    }
}
