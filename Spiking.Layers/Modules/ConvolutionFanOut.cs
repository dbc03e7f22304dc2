using System;
using System.Numerics;
using Spiking.Autograd;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// Counts the synaptic operations of a convolution on spikes exactly: each input spike is accumulated once into
/// every output window that covers it, so a spike at <c>(i, j)</c> costs <c>cover(i)·cover(j)</c> accumulates per
/// output channel, where the cover counts shrink at the borders and with the stride.
/// </summary>
internal static class ConvolutionFanOut
{
    /// <summary>
    /// Counts one pass of a convolution with <paramref name="outChannels"/> outputs per window, each reading
    /// <paramref name="windowInputs"/> inputs, over <paramref name="input"/> <c>[…, H, W]</c>: exact accumulates for
    /// spikes or spike counts (<see cref="OperationCounts.CountInput"/>), multiply–accumulates for a dense input, and
    /// the input's bits.
    /// </summary>
    public static void Count(OperationCounts operations, Variable input, int kernel, int stride, int padding, int outHeight, int outWidth, int outChannels, long windowInputs)
    {
        var shape = input.Shape;
        long elements = shape.ElementCount;
        if (input.Spikes is { } spikes)
        {
            // The fan-out count reads the bits on the host (as PopCount does for spikes on a device); counting is an
            // evaluation-time measurement, not part of a training step.
            using var host = spikes.IsOnHost ? null : spikes.To(Device.Cpu);
            operations.AddSynaptic(SynapticOperations(host ?? spikes, kernel, stride, padding, outHeight, outWidth) * outChannels);
            operations.AddInputBits(elements);
        }
        else if (operations.CountsOf(input) is { } counts)
        {
            using var host = input.Dense.IsOnHost ? null : input.Dense.To(Device.Cpu);
            operations.AddSynaptic(SynapticOperations(host ?? input.Dense, counts.Unit, kernel, stride, padding, outHeight, outWidth) * outChannels);
            operations.AddInputBits(elements * counts.Bits);
        }
        else
        {
            long outputs = elements / ((long)shape[shape.Rank - 1] * shape[shape.Rank - 2] * shape[shape.Rank - 3]) * outHeight * outWidth;
            operations.AddMultiplyAccumulate(outputs * windowInputs * outChannels);
            operations.AddInputBits(elements * 32);
        }
    }

    /// <summary>
    /// Σ over elements of <c>(x / unit)·cover(i)·cover(j)</c> for spike counts <c>[…, H, W]</c> (one output channel):
    /// a count of c is c spikes, each accumulated into every window that covers it.
    /// </summary>
    public static long SynapticOperations(Tensor counts, float unit, int kernel, int stride, int padding, int outHeight, int outWidth)
    {
        var shape = counts.Shape;
        int height = shape[shape.Rank - 2], width = shape[shape.Rank - 1];
        Span<int> coverWidth = width <= 512 ? stackalloc int[width] : new int[width];
        Cover(coverWidth, kernel, stride, padding, outWidth);
        Span<int> coverHeight = height <= 512 ? stackalloc int[height] : new int[height];
        Cover(coverHeight, kernel, stride, padding, outHeight);
        var values = counts.AsReadOnlySpan();
        double total = 0;
        for (int row = 0; row < values.Length / width; row++)
        {
            int ch = coverHeight[row % height];
            if (ch == 0) continue;
            var line = values.Slice(row * width, width);
            double rowSum = 0;
            for (int j = 0; j < width; j++) rowSum += line[j] * (double)coverWidth[j];
            total += rowSum * ch;
        }
        return (long)Math.Round(total / unit);
    }

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
