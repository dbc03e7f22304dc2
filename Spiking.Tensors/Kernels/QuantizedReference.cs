using System;
using Spiking.Tensors.Backends;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// The plain versions of the integer kernels (<see cref="QuantizedLinearKernel"/>, <see cref="QuantizedConvKernel"/>,
/// <see cref="QuantizedDepthwiseConvKernel"/>): scalar loops over unpacked int8 codes <c>[N, K]</c>, int32 sums, and the
/// epilogue <c>y = acc·scale + bias</c> one element at a time. The fast paths must agree with them bit for bit.
/// </summary>
public static class QuantizedReference
{
    /// <summary><c>sums[m, n] = Σ_k counts[m, k]·codes[n, k]</c>.</summary>
    /// <exception cref="ArgumentException">A span's length does not match the dimensions.</exception>
    public static void AccumulateCounts(ReadOnlySpan<byte> counts, int m, int k, ReadOnlySpan<sbyte> codes, int n, Span<int> sums)
    {
        Check(counts.Length, (long)m * k, nameof(counts), $"[{m}, {k}] counts");
        Check(codes.Length, (long)n * k, nameof(codes), $"[{n}, {k}] codes");
        Check(sums.Length, (long)m * n, nameof(sums), $"[{m}, {n}] sums");
        for (int r = 0; r < m; r++)
        {
            for (int j = 0; j < n; j++)
            {
                int s = 0;
                for (int c = 0; c < k; c++) s += counts[r * k + c] * codes[j * k + c];
                sums[r * n + j] = s;
            }
        }
    }

    /// <summary><c>sums[m, n] = Σ_{k : bit (m, k) set} codes[n, k]</c> for spike rows packed as <see cref="SpikeTensor"/> rows.</summary>
    /// <exception cref="ArgumentException">A span's length does not match the dimensions.</exception>
    public static void AccumulateSpikes(ReadOnlySpan<ulong> spikes, int m, int k, ReadOnlySpan<sbyte> codes, int n, Span<int> sums)
    {
        int wpr = SpikeTensor.WordsFor(k);
        Check(spikes.Length, (long)m * wpr, nameof(spikes), $"[{m}, {k}] spike bits");
        Check(codes.Length, (long)n * k, nameof(codes), $"[{n}, {k}] codes");
        Check(sums.Length, (long)m * n, nameof(sums), $"[{m}, {n}] sums");
        for (int r = 0; r < m; r++)
        {
            for (int j = 0; j < n; j++)
            {
                int s = 0;
                for (int c = 0; c < k; c++)
                {
                    if ((spikes[r * wpr + (c >> 6)] >> (c & 63) & 1) != 0) s += codes[j * k + c];
                }
                sums[r * n + j] = s;
            }
        }
    }

    /// <summary>
    /// <c>output[m, n] = sums[m, n]·scales[n] + bias[n]</c>: the int32 sum converted to float (rounded to nearest), one
    /// float multiply, then one float add (not fused); with no bias, the product alone.
    /// </summary>
    /// <exception cref="ArgumentException">A span's length does not match the dimensions.</exception>
    public static void Epilogue(ReadOnlySpan<int> sums, int m, int n, ReadOnlySpan<float> scales, ReadOnlySpan<float> bias, Span<float> output)
    {
        Check(sums.Length, (long)m * n, nameof(sums), $"[{m}, {n}] sums");
        Check(scales.Length, n, nameof(scales), $"{n} scales");
        if (!bias.IsEmpty) Check(bias.Length, n, nameof(bias), $"{n} biases (or none)");
        Check(output.Length, (long)m * n, nameof(output), $"[{m}, {n}] outputs");
        for (int r = 0; r < m; r++)
        {
            for (int j = 0; j < n; j++)
            {
                float v = sums[r * n + j] * scales[j];
                output[r * n + j] = bias.IsEmpty ? v : v + bias[j];
            }
        }
    }

    /// <summary>
    /// <c>sums[b, o, y, x] = Σ_{c, i, j} counts[b, c, y·s − p + i, x·s − p + j]·codes[o, c, i, j]</c>, zero outside
    /// the image: a convolution with groups 1 on NCHW counts, the codes <c>[O, C·kh·kw]</c> in PyTorch's weight order.
    /// </summary>
    /// <exception cref="ArgumentException">A span's length does not match the window.</exception>
    public static void Convolution(ReadOnlySpan<byte> counts, SlidingWindow window, ReadOnlySpan<sbyte> codes, int outChannels, Span<int> sums)
    {
        var g = window;
        Check(counts.Length, (long)g.Images * g.Channels * g.Height * g.Width, nameof(counts), $"[{g.Images}, {g.Channels}, {g.Height}, {g.Width}] counts");
        Check(codes.Length, (long)outChannels * g.Patch, nameof(codes), $"[{outChannels}, {g.Patch}] codes");
        Check(sums.Length, (long)g.Images * outChannels * g.Positions, nameof(sums), $"[{g.Images}, {outChannels}, {g.OutHeight}, {g.OutWidth}] sums");
        for (int b = 0; b < g.Images; b++)
        {
            for (int o = 0; o < outChannels; o++)
            {
                for (int y = 0; y < g.OutHeight; y++)
                {
                    for (int x = 0; x < g.OutWidth; x++)
                    {
                        int s = 0;
                        for (int c = 0; c < g.Channels; c++)
                        {
                            for (int i = 0; i < g.KernelHeight; i++)
                            {
                                for (int j = 0; j < g.KernelWidth; j++)
                                {
                                    int iy = y * g.Stride - g.Padding + i, ix = x * g.Stride - g.Padding + j;
                                    if (iy < 0 || iy >= g.Height || ix < 0 || ix >= g.Width) continue;
                                    s += counts[((b * g.Channels + c) * g.Height + iy) * g.Width + ix]
                                        * codes[o * g.Patch + (c * g.KernelHeight + i) * g.KernelWidth + j];
                                }
                            }
                        }
                        sums[((b * outChannels + o) * g.OutHeight + y) * g.OutWidth + x] = s;
                    }
                }
            }
        }
    }

    /// <summary>
    /// <c>sums[b, c, y, x] = Σ_{i, j} counts[b, c, y·s − p + i, x·s − p + j]·codes[c, i, j]</c>, zero outside the image:
    /// a depthwise convolution (groups = C) on NCHW counts, the codes <c>[C, kh·kw]</c>.
    /// </summary>
    /// <exception cref="ArgumentException">A span's length does not match the window.</exception>
    public static void DepthwiseConvolution(ReadOnlySpan<byte> counts, SlidingWindow window, ReadOnlySpan<sbyte> codes, Span<int> sums)
    {
        var g = window;
        int taps = g.KernelHeight * g.KernelWidth;
        Check(counts.Length, (long)g.Images * g.Channels * g.Height * g.Width, nameof(counts), $"[{g.Images}, {g.Channels}, {g.Height}, {g.Width}] counts");
        Check(codes.Length, (long)g.Channels * taps, nameof(codes), $"[{g.Channels}, {taps}] codes");
        Check(sums.Length, (long)g.Images * g.Channels * g.Positions, nameof(sums), $"[{g.Images}, {g.Channels}, {g.OutHeight}, {g.OutWidth}] sums");
        for (int b = 0; b < g.Images; b++)
        {
            for (int c = 0; c < g.Channels; c++)
            {
                for (int y = 0; y < g.OutHeight; y++)
                {
                    for (int x = 0; x < g.OutWidth; x++)
                    {
                        int s = 0;
                        for (int i = 0; i < g.KernelHeight; i++)
                        {
                            for (int j = 0; j < g.KernelWidth; j++)
                            {
                                int iy = y * g.Stride - g.Padding + i, ix = x * g.Stride - g.Padding + j;
                                if (iy < 0 || iy >= g.Height || ix < 0 || ix >= g.Width) continue;
                                s += counts[((b * g.Channels + c) * g.Height + iy) * g.Width + ix] * codes[c * taps + i * g.KernelWidth + j];
                            }
                        }
                        sums[((b * g.Channels + c) * g.OutHeight + y) * g.OutWidth + x] = s;
                    }
                }
            }
        }
    }

    private static void Check(int length, long expected, string name, string what)
    {
        if (length != expected) throw new ArgumentException($"'{name}' holds {length} elements; {what} need {expected}.", name);
    }
}
