using System;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// Transposes a bit matrix: row r, bit c of the source becomes row c, bit r of the destination. Works on 64×64
/// blocks with the recursive block-swap of Hacker's Delight (section 7-3), adapted to least-significant-bit-first
/// columns, so the cost is fixed by the shape and does not depend on the firing rate.
/// </summary>
public static class BitTranspose
{
    /// <summary>
    /// Transposes <paramref name="rows"/> × <paramref name="columns"/> bits (rows of <c>ceil(columns/64)</c> words)
    /// into <paramref name="columns"/> × <paramref name="rows"/> bits (rows of <c>ceil(rows/64)</c> words).
    /// </summary>
    /// <exception cref="ArgumentException">A span is too short for the shape.</exception>
    public static void Transpose(ReadOnlySpan<ulong> source, int rows, int columns, Span<ulong> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        int srcWords = SpikeTensor.WordsFor(columns);
        int dstWords = SpikeTensor.WordsFor(rows);
        if (source.Length < (long)rows * srcWords)
        {
            throw new ArgumentException($"Source holds {source.Length} words; {rows}×{columns} bits need {(long)rows * srcWords}.", nameof(source));
        }
        if (destination.Length < (long)columns * dstWords)
        {
            throw new ArgumentException($"Destination holds {destination.Length} words; {columns}×{rows} bits need {(long)columns * dstWords}.", nameof(destination));
        }
        Span<ulong> block = stackalloc ulong[64];
        for (int rb = 0; rb < dstWords; rb++)
        {
            int r0 = rb << 6;
            int rn = Math.Min(64, rows - r0);
            for (int cb = 0; cb < srcWords; cb++)
            {
                for (int i = 0; i < rn; i++) block[i] = source[(r0 + i) * srcWords + cb];
                block[rn..].Clear();
                Transpose64(block);
                int c0 = cb << 6;
                int cn = Math.Min(64, columns - c0);
                for (int i = 0; i < cn; i++) destination[(c0 + i) * dstWords + rb] = block[i];
            }
        }
    }

    /// <summary>Transposes a 64×64 bit block in place (row i, bit j ↔ row j, bit i).</summary>
    internal static void Transpose64(Span<ulong> a)
    {
        ulong m = 0x00000000FFFFFFFFUL;
        for (int j = 32; j != 0; j >>= 1, m ^= m << j)
        {
            for (int k = 0; k < 64; k = ((k | j) + 1) & ~j)
            {
                ulong t = ((a[k] >> j) ^ a[k | j]) & m;
                a[k | j] ^= t;
                a[k] ^= t << j;
            }
        }
    }

    /// <summary>The plain bit-by-bit transpose the block version is tested against.</summary>
    public static void TransposeReference(ReadOnlySpan<ulong> source, int rows, int columns, Span<ulong> destination)
    {
        int srcWords = SpikeTensor.WordsFor(columns);
        int dstWords = SpikeTensor.WordsFor(rows);
        destination[..(columns * dstWords)].Clear();
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                if ((source[r * srcWords + (c >> 6)] >> (c & 63) & 1) != 0) destination[c * dstWords + (r >> 6)] |= 1UL << (r & 63);
            }
        }
    }
}
