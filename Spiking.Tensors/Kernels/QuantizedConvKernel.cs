using System;
using System.Buffers;
using Spiking.Tensors.Backends;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// A quantized 2-D convolution (groups 1, PyTorch's cross-correlation with zero padding) on NCHW counts, prepared
/// once: <c>y[b, o] = (Σ_{c,i,j} x[b, c, ·s − p + i, ·s − p + j]·q[o, c, i, j])·scale[o] + bias[o]</c>. Each block of
/// images is unrolled into u8 patch rows <c>[images·Ho·Wo, C·kh·kw]</c> (an im2col of counts: padding is count 0)
/// and multiplied by a <see cref="QuantizedLinearKernel"/> over the codes <c>[O, C·kh·kw]</c>, whose epilogue writes
/// the NCHW output directly.
/// </summary>
public sealed class QuantizedConvKernel
{
    /// <summary>Patch bytes unrolled per block of images, so the im2col buffer stays a few MiB whatever the batch.</summary>
    private const int BlockBytes = 4 << 20;

    private readonly QuantizedLinearKernel _linear;

    private QuantizedConvKernel(QuantizedLinearKernel linear, int inChannels, int kernelHeight, int kernelWidth, int stride, int padding)
    {
        _linear = linear;
        InChannels = inChannels;
        KernelHeight = kernelHeight;
        KernelWidth = kernelWidth;
        Stride = stride;
        Padding = padding;
    }

    /// <summary>Prepares a convolution from 8-bit codes <c>[outChannels, inChannels, kernelHeight, kernelWidth]</c> (PyTorch's <c>Conv2d</c> weight layout).</summary>
    /// <param name="codes">The codes, −128…127.</param>
    /// <param name="outChannels">O.</param>
    /// <param name="inChannels">C.</param>
    /// <param name="kernelHeight">kh.</param>
    /// <param name="kernelWidth">kw.</param>
    /// <param name="stride">The step between windows, at least 1.</param>
    /// <param name="padding">The zero border on every side, at least 0.</param>
    /// <param name="scales">The float scale of each output channel, length O.</param>
    /// <param name="bias">The float bias of each output channel (length O), or empty for none.</param>
    /// <param name="path">The instruction path; <see cref="IntegerKernelPaths.Best"/> when null.</param>
    /// <exception cref="ArgumentException">A span's length does not match the dimensions.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension, the stride or the padding is out of range.</exception>
    /// <exception cref="PlatformNotSupportedException"><paramref name="path"/> is not supported here.</exception>
    public static QuantizedConvKernel FromInt8(ReadOnlySpan<sbyte> codes, int outChannels, int inChannels, int kernelHeight, int kernelWidth, int stride, int padding,
        ReadOnlySpan<float> scales, ReadOnlySpan<float> bias = default, IntegerKernelPath? path = null)
    {
        int patch = CheckWindow(inChannels, kernelHeight, kernelWidth, stride, padding);
        return new(QuantizedLinearKernel.FromInt8(codes, outChannels, patch, scales, bias, path), inChannels, kernelHeight, kernelWidth, stride, padding);
    }

    /// <summary>
    /// Prepares a convolution from 4-bit codes packed as <see cref="Int4Codes"/> describes, each output channel's
    /// <c>C·kh·kw</c> codes one row of <c>⌈C·kh·kw/2⌉</c> bytes.
    /// </summary>
    /// <param name="packedCodes">The codes, two to a byte.</param>
    /// <param name="outChannels">O.</param>
    /// <param name="inChannels">C.</param>
    /// <param name="kernelHeight">kh.</param>
    /// <param name="kernelWidth">kw.</param>
    /// <param name="stride">The step between windows, at least 1.</param>
    /// <param name="padding">The zero border on every side, at least 0.</param>
    /// <param name="scales">The float scale of each output channel, length O.</param>
    /// <param name="bias">The float bias of each output channel (length O), or empty for none.</param>
    /// <param name="path">The instruction path; <see cref="IntegerKernelPaths.Best"/> when null.</param>
    /// <exception cref="ArgumentException">A span's length does not match the dimensions.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension, the stride or the padding is out of range.</exception>
    /// <exception cref="PlatformNotSupportedException"><paramref name="path"/> is not supported here.</exception>
    public static QuantizedConvKernel FromInt4(ReadOnlySpan<byte> packedCodes, int outChannels, int inChannels, int kernelHeight, int kernelWidth, int stride, int padding,
        ReadOnlySpan<float> scales, ReadOnlySpan<float> bias = default, IntegerKernelPath? path = null)
    {
        int patch = CheckWindow(inChannels, kernelHeight, kernelWidth, stride, padding);
        return new(QuantizedLinearKernel.FromInt4(packedCodes, outChannels, patch, scales, bias, path), inChannels, kernelHeight, kernelWidth, stride, padding);
    }

    /// <summary>O.</summary>
    public int OutChannels => _linear.OutFeatures;

    /// <summary>C.</summary>
    public int InChannels { get; }

    /// <summary>kh.</summary>
    public int KernelHeight { get; }

    /// <summary>kw.</summary>
    public int KernelWidth { get; }

    /// <summary>The step between windows.</summary>
    public int Stride { get; }

    /// <summary>The zero border on every side.</summary>
    public int Padding { get; }

    /// <summary>The code width: 8 or 4.</summary>
    public int Bits => _linear.Bits;

    /// <summary>The instruction path.</summary>
    public IntegerKernelPath Path => _linear.Path;

    /// <summary>The window over an input of <paramref name="images"/> images of <paramref name="height"/> × <paramref name="width"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, or the window does not fit the padded input.</exception>
    public SlidingWindow Window(int images, int height, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(images);
        if (height + 2 * Padding < KernelHeight || width + 2 * Padding < KernelWidth)
        {
            throw new ArgumentOutOfRangeException(height + 2 * Padding < KernelHeight ? nameof(height) : nameof(width),
                $"Input {height}×{width} padded by {Padding} is smaller than the {KernelHeight}×{KernelWidth} kernel.");
        }
        return new SlidingWindow(images, InChannels, height, width, KernelHeight, KernelWidth, Stride, Padding);
    }

    /// <summary>
    /// <c>output[images, O, Ho, Wo]</c> from NCHW <paramref name="counts"/> <c>[images, C, height, width]</c>
    /// (unsigned 8-bit spike counts), sizes as <see cref="Window"/> gives them.
    /// </summary>
    /// <exception cref="ArgumentException">A span's length does not match the sizes.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range.</exception>
    public void Forward(ReadOnlySpan<byte> counts, int images, int height, int width, Span<float> output)
    {
        var g = Window(images, height, width);
        long inputs = (long)images * InChannels * height * width, outputs = (long)images * OutChannels * g.Positions;
        if (counts.Length != inputs) throw new ArgumentException($"Counts hold {counts.Length} bytes; [{images}, {InChannels}, {height}, {width}] needs {inputs}.", nameof(counts));
        if (output.Length != outputs) throw new ArgumentException($"Output holds {output.Length} floats; [{images}, {OutChannels}, {g.OutHeight}, {g.OutWidth}] needs {outputs}.", nameof(output));
        if (images == 0 || g.Positions == 0) return;
        int patch = g.Patch, positions = g.Positions, imageSize = InChannels * height * width;
        int block = (int)Math.Clamp(BlockBytes / Math.Max(1L, (long)positions * patch), 1, images);
        var cols = ArrayPool<byte>.Shared.Rent(Math.Max(1, block * positions * patch));
        try
        {
            for (int b0 = 0; b0 < images; b0 += block)
            {
                int count = Math.Min(block, images - b0);
                for (int b = 0; b < count; b++)
                {
                    Im2Col(counts.Slice((b0 + b) * imageSize, imageSize), g, cols.AsSpan(b * positions * patch, positions * patch));
                }
                _linear.ForwardChannelMajor(cols.AsSpan(0, count * positions * patch), count * positions, positions,
                    output.Slice(b0 * OutChannels * positions, count * OutChannels * positions));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(cols);
        }
    }

    /// <summary>One image's patch rows <c>[Ho·Wo, C·kh·kw]</c>, in the codes' (c, i, j) order, 0 where the window leaves the image.</summary>
    private static void Im2Col(ReadOnlySpan<byte> image, SlidingWindow g, Span<byte> rows)
    {
        int patch = g.Patch, kh = g.KernelHeight, kw = g.KernelWidth;
        for (int oy = 0; oy < g.OutHeight; oy++)
        {
            for (int ox = 0; ox < g.OutWidth; ox++)
            {
                var row = rows.Slice((oy * g.OutWidth + ox) * patch, patch);
                int x0 = ox * g.Stride - g.Padding;
                int lo = Math.Max(0, -x0), hi = Math.Min(kw, g.Width - x0);
                for (int c = 0; c < g.Channels; c++)
                {
                    for (int i = 0; i < kh; i++)
                    {
                        var taps = row.Slice((c * kh + i) * kw, kw);
                        int iy = oy * g.Stride - g.Padding + i;
                        if (iy < 0 || iy >= g.Height || lo >= hi)
                        {
                            taps.Clear();
                            continue;
                        }
                        taps.Slice(0, lo).Clear();
                        image.Slice((c * g.Height + iy) * g.Width + x0 + lo, hi - lo).CopyTo(taps.Slice(lo));
                        taps.Slice(hi).Clear();
                    }
                }
            }
        }
    }

    private static int CheckWindow(int inChannels, int kernelHeight, int kernelWidth, int stride, int padding)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(inChannels);
        ArgumentOutOfRangeException.ThrowIfLessThan(kernelHeight, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(kernelWidth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        long patch = (long)inChannels * kernelHeight * kernelWidth;
        if (patch > QuantizedLinearKernel.MaxInFeatures)
        {
            throw new ArgumentOutOfRangeException(nameof(inChannels), $"A patch of {inChannels}·{kernelHeight}·{kernelWidth} = {patch} counts exceeds {QuantizedLinearKernel.MaxInFeatures}, the most an int32 sum holds exactly.");
        }
        return (int)patch;
    }
}
