using System;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// Moves spike bits from a chunk's bit stream (one bit per neuron of consecutive whole rows, least significant first,
/// as the SIMD compare masks come out) into a spike tensor's rows, which start on a word and are zero-padded.
/// </summary>
internal static class SpikeBits
{
    /// <summary>
    /// Writes <paramref name="rows"/> rows of <paramref name="rowLength"/> bits from <paramref name="stream"/> into
    /// <paramref name="words"/> (<c>rows · ceil(rowLength/64)</c> words, overwritten, padding zero).
    /// </summary>
    public static void CopyRows(ReadOnlySpan<ulong> stream, int rows, int rowLength, Span<ulong> words)
    {
        if ((rowLength & 63) == 0)
        {
            stream[..(rows * (rowLength >> 6))].CopyTo(words);
            return;
        }
        int wordsPerRow = (rowLength + 63) >> 6;
        int o = 0;
        for (int r = 0; r < rows; r++)
        {
            long bit = (long)r * rowLength;
            for (int w = 0; w < wordsPerRow; w++, bit += 64)
            {
                int n = Math.Min(64, rowLength - (w << 6));
                int index = (int)(bit >> 6), shift = (int)(bit & 63);
                ulong word = stream[index] >> shift;
                if (shift + n > 64) word |= stream[index + 1] << (64 - shift);
                if (n < 64) word &= (1UL << n) - 1;
                words[o++] = word;
            }
        }
    }
}
