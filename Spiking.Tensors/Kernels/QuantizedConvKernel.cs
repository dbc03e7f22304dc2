using System;
using System.Buffers;
using System.Runtime.CompilerServices;
using Spiking.Tensors.Backends;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// A quantized 2-D convolution (groups 1, PyTorch's cross-correlation with zero padding) on NCHW counts, prepared
/// once: <c>y[b, o] = (Σ_{c,i,j} x[b, c, ·s − p + i, ·s − p + j]·q[o, c, i, j])·scale[o] + bias[o]</c>. Each image is
/// turned channels-last (<c>[H, W, C]</c>) and unrolled into u8 patch rows <c>[Ho·Wo, kh·kw·C]</c> (an im2col of
/// counts: padding is count 0), so a patch row is kh runs of up to kw·C contiguous bytes, copied whole; the codes are
/// reordered to <c>[O, kh, kw, C]</c> once to match. The rows of a block of images go through a
/// <see cref="QuantizedLinearKernel"/>, whose epilogue writes the NCHW output directly. The unrolling of the images
/// of a block runs in parallel, one image an item.
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
        if (codes.Length != (long)outChannels * patch)
        {
            throw new ArgumentException($"Codes hold {codes.Length} values; [{outChannels}, {inChannels}, {kernelHeight}, {kernelWidth}] needs {(long)outChannels * patch}.", nameof(codes));
        }
        var channelsLast = ChannelsLast(codes, outChannels, inChannels, kernelHeight * kernelWidth);
        return new(QuantizedLinearKernel.FromInt8(channelsLast, outChannels, patch, scales, bias, path), inChannels, kernelHeight, kernelWidth, stride, padding);
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
        long bytes = (long)outChannels * Int4Codes.RowBytes(patch);
        if (packedCodes.Length != bytes)
        {
            throw new ArgumentException($"Packed 4-bit codes hold {packedCodes.Length} bytes; {outChannels} rows of {patch} codes, two a byte, need {bytes}.", nameof(packedCodes));
        }
        var codes = new sbyte[outChannels * patch];
        Int4Codes.Unpack(packedCodes, outChannels, patch, codes);
        var repacked = new byte[bytes];
        Int4Codes.Pack(ChannelsLast(codes, outChannels, inChannels, kernelHeight * kernelWidth), outChannels, patch, repacked);
        return new(QuantizedLinearKernel.FromInt4(repacked, outChannels, patch, scales, bias, path), inChannels, kernelHeight, kernelWidth, stride, padding);
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
    public unsafe void Forward(ReadOnlySpan<byte> counts, int images, int height, int width, Span<float> output)
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
            fixed (byte* px = counts, pc = cols)
            {
                for (int b0 = 0; b0 < images; b0 += block)
                {
                    int count = Math.Min(block, images - b0);
                    var job = new Unroll { Window = g, Images = px + (long)b0 * imageSize, Rows = pc };
                    Parallelism.For(count, (long)positions * patch, job, static (b, j) => UnrollImage(j, b));
                    _linear.ForwardChannelMajor(cols.AsSpan(0, count * positions * patch), count * positions, positions,
                        output.Slice(b0 * OutChannels * positions, count * OutChannels * positions));
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(cols);
        }
    }

    /// <summary>The images of a block and where their patch rows go; valid while <see cref="Forward"/> waits on the loop.</summary>
    private unsafe struct Unroll
    {
        public SlidingWindow Window;
        public byte* Images;
        public byte* Rows;
    }

    /// <summary>Image <paramref name="b"/> of the block: channels-last, then its patch rows <c>[Ho·Wo, kh·kw·C]</c>.</summary>
    private static unsafe void UnrollImage(Unroll job, int b)
    {
        var g = job.Window;
        int c = g.Channels, h = g.Height, w = g.Width, kh = g.KernelHeight, kw = g.KernelWidth, patch = g.Patch;
        byte* rows = job.Rows + (long)b * g.Positions * patch;
        // A 1×1 window at stride 1 without padding has the channels-last image as its patch rows.
        bool pointwise = kh == 1 && kw == 1 && g.Stride == 1 && g.Padding == 0;
        var buffer = pointwise ? null : ArrayPool<byte>.Shared.Rent(Math.Max(1, c * h * w));
        try
        {
            fixed (byte* scratch = buffer)
            {
                byte* hwc = pointwise ? rows : scratch;
                byte* image = job.Images + (long)b * c * h * w;
                for (int ch = 0; ch < c; ch++)
                {
                    byte* plane = image + (long)ch * h * w;
                    for (int p = 0; p < h * w; p++) hwc[(long)p * c + ch] = plane[p];
                }
                if (pointwise) return;
                for (int oy = 0; oy < g.OutHeight; oy++)
                {
                    for (int ox = 0; ox < g.OutWidth; ox++)
                    {
                        byte* row = rows + (long)(oy * g.OutWidth + ox) * patch;
                        int x0 = ox * g.Stride - g.Padding;
                        int lo = Math.Clamp(-x0, 0, kw), hi = Math.Clamp(w - x0, lo, kw);
                        for (int i = 0; i < kh; i++)
                        {
                            byte* taps = row + (long)i * kw * c;
                            int iy = oy * g.Stride - g.Padding + i;
                            if (iy < 0 || iy >= h)
                            {
                                new Span<byte>(taps, kw * c).Clear();
                                continue;
                            }
                            if (lo > 0) new Span<byte>(taps, lo * c).Clear();
                            Unsafe.CopyBlockUnaligned(taps + lo * c, hwc + ((long)iy * w + x0 + lo) * c, (uint)((hi - lo) * c));
                            if (hi < kw) new Span<byte>(taps + hi * c, (kw - hi) * c).Clear();
                        }
                    }
                }
            }
        }
        finally
        {
            if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Codes <c>[O, C, taps]</c> (PyTorch's order) reordered to <c>[O, taps, C]</c>, the order of the channels-last patch rows.</summary>
    private static sbyte[] ChannelsLast(ReadOnlySpan<sbyte> codes, int outChannels, int inChannels, int taps)
    {
        var reordered = new sbyte[codes.Length];
        for (int o = 0; o < outChannels; o++)
        {
            for (int ch = 0; ch < inChannels; ch++)
            {
                for (int t = 0; t < taps; t++) reordered[((long)o * taps + t) * inChannels + ch] = codes[(o * inChannels + ch) * taps + t];
            }
        }
        return reordered;
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
