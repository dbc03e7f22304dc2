using System;
using System.Numerics;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// Counts the synaptic operations of a convolution on spikes exactly: each input spike is accumulated once into
/// every output window that covers it, so a spike at <c>(i, j)</c> costs <c>cover(i)·cover(j)</c> accumulates per
/// output channel, where the cover counts shrink at the borders and with the stride.
/// </summary>
internal static class ConvolutionFanOut
{
    /// <summary>Σ over set bits of <c>cover(i)·cover(j)</c> for spikes <c>[…, H, W]</c> (one output channel).</summary>
    public static long SynapticOperations(SpikeTensor spikes, int kernel, int stride, int padding, int outHeight, int outWidth)
    {
        var shape = spikes.Shape;
        int height = shape[shape.Rank - 2], width = shape[shape.Rank - 1];
        Span<int> coverWidth = width <= 512 ? stackalloc int[width] : new int[width];
        Cover(coverWidth, kernel, stride, padding, outWidth);
        Span<int> coverHeight = height <= 512 ? stackalloc int[height] : new int[height];
        Cover(coverHeight, kernel, stride, padding, outHeight);
        long total = 0;
        for (int row = 0; row < spikes.RowCount; row++)
        {
            int ch = coverHeight[row % height];
            if (ch == 0) continue;
            var words = spikes.Row(row);
            long rowSum = 0;
            for (int w = 0; w < words.Length; w++)
            {
                ulong bits = words[w];
                while (bits != 0)
                {
                    rowSum += coverWidth[(w << 6) + BitOperations.TrailingZeroCount(bits)];
                    bits &= bits - 1;
                }
            }
            total += rowSum * ch;
        }
        return total;
    }

    private static void Cover(Span<int> cover, int kernel, int stride, int padding, int outputs)
    {
        cover.Clear();
        for (int o = 0; o < outputs; o++)
        {
            int start = o * stride - padding;
            for (int k = 0; k < kernel; k++)
            {
                int i = start + k;
                if ((uint)i < (uint)cover.Length) cover[i]++;
            }
        }
    }
}
