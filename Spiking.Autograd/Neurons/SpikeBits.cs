using System;
using System.Runtime.CompilerServices;

namespace Spiking.Autograd.Neurons;

/// <summary>Writes compare masks into a spike tensor's packed words while walking its rows.</summary>
internal static class SpikeBits
{
    /// <summary>
    /// ORs the low <paramref name="lanes"/> bits of <paramref name="bits"/> (one per consecutive neuron, lowest first)
    /// into <paramref name="words"/> at row <paramref name="wordBase"/>/<paramref name="wordsPerRow"/>, column
    /// <paramref name="column"/>, and advances the position, splitting at word and row ends (rows start on a word).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Scatter(Span<ulong> words, ulong bits, int lanes, ref int wordBase, ref int column, int rowLength, int wordsPerRow)
    {
        while (true)
        {
            int room = Math.Min(rowLength - column, 64 - (column & 63));
            int take = lanes < room ? lanes : room;
            if (bits != 0) words[wordBase + (column >> 6)] |= (bits & ((1UL << take) - 1)) << (column & 63);
            bits >>= take;
            lanes -= take;
            column += take;
            if (column == rowLength)
            {
                column = 0;
                wordBase += wordsPerRow;
            }
            if (lanes == 0) return;
        }
    }
}
