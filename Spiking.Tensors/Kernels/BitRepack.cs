using System;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// Copies the bit stream of one packed row layout into another (a spike reshape that changes the packed last
/// axis, such as flattening <c>[N, C, H, W]</c> spikes into <c>[N, C·H·W]</c>), moving up to 64 bits at a time.
/// </summary>
internal static class BitRepack
{
    /// <summary>
    /// Writes the <c>rows·rowLength</c> bits of <paramref name="source"/> (rows of <paramref name="sourceRowLength"/>)
    /// into <paramref name="destination"/> as rows of <paramref name="destinationRowLength"/>, padding zeroed.
    /// </summary>
    public static void Repack(ReadOnlySpan<ulong> source, int sourceRowLength, Span<ulong> destination, int destinationRowLength, long totalBits)
    {
        int srcWords = SpikeTensor.WordsFor(sourceRowLength), dstWords = SpikeTensor.WordsFor(destinationRowLength);
        destination.Clear();
        long done = 0;
        int srcRow = 0, srcCol = 0, dstRow = 0, dstCol = 0;
        while (done < totalBits)
        {
            int run = Math.Min(64, Math.Min(sourceRowLength - srcCol, destinationRowLength - dstCol));
            ulong bits = ReadBits(source.Slice(srcRow * srcWords, srcWords), srcCol, run);
            WriteBits(destination.Slice(dstRow * dstWords, dstWords), dstCol, run, bits);
            done += run;
            srcCol += run;
            dstCol += run;
            if (srcCol == sourceRowLength) (srcRow, srcCol) = (srcRow + 1, 0);
            if (dstCol == destinationRowLength) (dstRow, dstCol) = (dstRow + 1, 0);
        }
    }

    /// <summary>The plain bit-by-bit copy the word-wise one is tested against.</summary>
    public static void RepackReference(ReadOnlySpan<ulong> source, int sourceRowLength, Span<ulong> destination, int destinationRowLength, long totalBits)
    {
        int srcWords = SpikeTensor.WordsFor(sourceRowLength), dstWords = SpikeTensor.WordsFor(destinationRowLength);
        destination.Clear();
        for (long i = 0; i < totalBits; i++)
        {
            long sr = i / sourceRowLength, sc = i % sourceRowLength;
            if ((source[(int)(sr * srcWords + (sc >> 6))] >> (int)(sc & 63) & 1) == 0) continue;
            long dr = i / destinationRowLength, dc = i % destinationRowLength;
            destination[(int)(dr * dstWords + (dc >> 6))] |= 1UL << (int)(dc & 63);
        }
    }

    private static ulong ReadBits(ReadOnlySpan<ulong> row, int start, int count)
    {
        int word = start >> 6, shift = start & 63;
        ulong value = row[word] >> shift;
        if (shift != 0 && shift + count > 64) value |= row[word + 1] << (64 - shift);
        return count == 64 ? value : value & ((1UL << count) - 1);
    }

    private static void WriteBits(Span<ulong> row, int start, int count, ulong bits)
    {
        int word = start >> 6, shift = start & 63;
        row[word] |= bits << shift;
        if (shift != 0 && shift + count > 64) row[word + 1] |= bits >> (64 - shift);
    }
}
