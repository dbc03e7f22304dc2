using System;
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Spiking.Tensors.Backends;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// A quantized depthwise 2-D convolution (groups = C) on NCHW counts, prepared once:
/// <c>y[b, c] = (x[b, c] ⋆ q[c])·scale[c] + bias[c]</c> with integer codes <c>q[C, 1, kh, kw]</c>. A channel has no
/// inner product across channels, so each plane is copied into a zero-bordered buffer and, at stride 1, every tap
/// adds <c>count·code</c> to a run of output columns in int16 vector lanes (counts zero-extended, products exact),
/// widened into int32 every <c>⌊32767 / (max count · max |code|)⌋</c> taps, before the epilogue
/// (<see cref="QuantizedEpilogue"/>), in the narrowest accelerated vector that covers an output row. Other strides
/// run the scalar loop on the bordered plane. Work items are images, so any thread count gives the same bits.
/// </summary>
public sealed class QuantizedDepthwiseConvKernel
{
    private readonly sbyte[] _codes;
    private readonly float[] _scales;
    private readonly float[]? _bias;
    private readonly int _portableBits;
    private readonly int _maxAbsCode;

    private QuantizedDepthwiseConvKernel(sbyte[] codes, int bits, int channels, int kernelHeight, int kernelWidth, int stride, int padding,
        ReadOnlySpan<float> scales, ReadOnlySpan<float> bias, IntegerKernelPath path, int portableBits)
    {
        if (scales.Length != channels) throw new ArgumentException($"Scales have length {scales.Length}; expected one per channel, {channels}.", nameof(scales));
        if (!bias.IsEmpty && bias.Length != channels) throw new ArgumentException($"Bias has length {bias.Length}; expected {channels} (or none).", nameof(bias));
        if (!IntegerKernelPaths.IsSupported(path)) throw new PlatformNotSupportedException($"The {path} integer kernel path needs instructions this CPU lacks.");
        _codes = codes;
        Bits = bits;
        Channels = channels;
        KernelHeight = kernelHeight;
        KernelWidth = kernelWidth;
        Stride = stride;
        Padding = padding;
        _scales = scales.ToArray();
        _bias = bias.IsEmpty ? null : bias.ToArray();
        Path = path;
        _portableBits = portableBits;
        foreach (sbyte q in codes) _maxAbsCode = Math.Max(_maxAbsCode, Math.Abs((int)q));
    }

    /// <summary>Prepares a depthwise convolution from 8-bit codes <c>[channels, 1, kernelHeight, kernelWidth]</c>.</summary>
    /// <param name="codes">The codes, −128…127.</param>
    /// <param name="channels">C, in and out.</param>
    /// <param name="kernelHeight">kh.</param>
    /// <param name="kernelWidth">kw.</param>
    /// <param name="stride">The step between windows, at least 1.</param>
    /// <param name="padding">The zero border on every side, at least 0.</param>
    /// <param name="scales">The float scale of each channel, length C.</param>
    /// <param name="bias">The float bias of each channel (length C), or empty for none.</param>
    /// <param name="path">The instruction path; <see cref="IntegerKernelPaths.Best"/> when null (the dot-product path runs the portable kernel).</param>
    /// <exception cref="ArgumentException">A span's length does not match the dimensions.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension, the stride or the padding is out of range.</exception>
    /// <exception cref="PlatformNotSupportedException"><paramref name="path"/> is not supported here.</exception>
    public static QuantizedDepthwiseConvKernel FromInt8(ReadOnlySpan<sbyte> codes, int channels, int kernelHeight, int kernelWidth, int stride, int padding,
        ReadOnlySpan<float> scales, ReadOnlySpan<float> bias = default, IntegerKernelPath? path = null) =>
        CreateInt8(codes, channels, kernelHeight, kernelWidth, stride, padding, scales, bias, path ?? IntegerKernelPaths.Best, SimdWidth.Bits);

    /// <summary>Prepares a depthwise convolution from 4-bit codes packed as <see cref="Int4Codes"/> describes, one row of <c>⌈kh·kw/2⌉</c> bytes a channel.</summary>
    /// <param name="packedCodes">The codes, two to a byte.</param>
    /// <param name="channels">C, in and out.</param>
    /// <param name="kernelHeight">kh.</param>
    /// <param name="kernelWidth">kw.</param>
    /// <param name="stride">The step between windows, at least 1.</param>
    /// <param name="padding">The zero border on every side, at least 0.</param>
    /// <param name="scales">The float scale of each channel, length C.</param>
    /// <param name="bias">The float bias of each channel (length C), or empty for none.</param>
    /// <param name="path">The instruction path; <see cref="IntegerKernelPaths.Best"/> when null.</param>
    /// <exception cref="ArgumentException">A span's length does not match the dimensions.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension, the stride or the padding is out of range.</exception>
    /// <exception cref="PlatformNotSupportedException"><paramref name="path"/> is not supported here.</exception>
    public static QuantizedDepthwiseConvKernel FromInt4(ReadOnlySpan<byte> packedCodes, int channels, int kernelHeight, int kernelWidth, int stride, int padding,
        ReadOnlySpan<float> scales, ReadOnlySpan<float> bias = default, IntegerKernelPath? path = null)
    {
        int taps = CheckWindow(channels, kernelHeight, kernelWidth, stride, padding);
        long bytes = (long)channels * Int4Codes.RowBytes(taps);
        if (packedCodes.Length != bytes) throw new ArgumentException($"Packed 4-bit codes hold {packedCodes.Length} bytes; {channels} channels of {taps} taps need {bytes}.", nameof(packedCodes));
        var codes = new sbyte[channels * taps];
        Int4Codes.Unpack(packedCodes, channels, taps, codes);
        return new(codes, 4, channels, kernelHeight, kernelWidth, stride, padding, scales, bias, path ?? IntegerKernelPaths.Best, SimdWidth.Bits);
    }

    /// <summary><see cref="FromInt8"/> with the portable vector width chosen (tests compare every accelerated width).</summary>
    internal static QuantizedDepthwiseConvKernel CreateInt8(ReadOnlySpan<sbyte> codes, int channels, int kernelHeight, int kernelWidth, int stride, int padding,
        ReadOnlySpan<float> scales, ReadOnlySpan<float> bias, IntegerKernelPath path, int portableBits)
    {
        int taps = CheckWindow(channels, kernelHeight, kernelWidth, stride, padding);
        if (codes.Length != (long)channels * taps) throw new ArgumentException($"Codes hold {codes.Length} values; [{channels}, 1, {kernelHeight}, {kernelWidth}] needs {(long)channels * taps}.", nameof(codes));
        return new(codes.ToArray(), 8, channels, kernelHeight, kernelWidth, stride, padding, scales, bias, path, portableBits);
    }

    /// <summary>C.</summary>
    public int Channels { get; }

    /// <summary>kh.</summary>
    public int KernelHeight { get; }

    /// <summary>kw.</summary>
    public int KernelWidth { get; }

    /// <summary>The step between windows.</summary>
    public int Stride { get; }

    /// <summary>The zero border on every side.</summary>
    public int Padding { get; }

    /// <summary>The code width: 8 or 4.</summary>
    public int Bits { get; }

    /// <summary>The instruction path.</summary>
    public IntegerKernelPath Path { get; }

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
        return new SlidingWindow(images, Channels, height, width, KernelHeight, KernelWidth, Stride, Padding);
    }

    /// <summary><c>output[images, C, Ho, Wo]</c> from NCHW <paramref name="counts"/> <c>[images, C, height, width]</c>.</summary>
    /// <exception cref="ArgumentException">A span's length does not match the sizes.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range.</exception>
    public unsafe void Forward(ReadOnlySpan<byte> counts, int images, int height, int width, Span<float> output)
    {
        var g = Window(images, height, width);
        long inputs = (long)images * Channels * height * width, outputs = (long)images * Channels * g.Positions;
        if (counts.Length != inputs) throw new ArgumentException($"Counts hold {counts.Length} bytes; [{images}, {Channels}, {height}, {width}] needs {inputs}.", nameof(counts));
        if (output.Length != outputs) throw new ArgumentException($"Output holds {output.Length} floats; [{images}, {Channels}, {g.OutHeight}, {g.OutWidth}] needs {outputs}.", nameof(output));
        if (outputs == 0) return;
        if (Path == IntegerKernelPath.Scalar)
        {
            var sums = ArrayPool<int>.Shared.Rent((int)outputs);
            try
            {
                QuantizedReference.DepthwiseConvolution(counts, g, _codes, sums.AsSpan(0, (int)outputs));
                for (int i = 0; i < outputs; i++)
                {
                    int c = i / g.Positions % Channels;
                    output[i] = _bias is null ? QuantizedEpilogue.Apply(sums[i], _scales[c]) : QuantizedEpilogue.Apply(sums[i], _scales[c], _bias[c]);
                }
            }
            finally
            {
                ArrayPool<int>.Shared.Return(sums);
            }
            return;
        }
        int maxCount = counts.IsEmpty ? 0 : System.Numerics.Tensors.TensorPrimitives.Max(counts);
        long largest = (long)maxCount * _maxAbsCode;
        fixed (byte* px = counts)
        fixed (float* py = output)
        fixed (sbyte* pq = _codes)
        fixed (float* ps = _scales, pb = _bias)
        {
            var job = new Job
            {
                Window = g,
                Counts = px,
                Output = py,
                Codes = pq,
                Scales = ps,
                Bias = pb,
                Limit = (int)(short.MaxValue / Math.Max(1, largest)),
            };
            long work = (long)Channels * g.Positions * g.KernelHeight * g.KernelWidth / 8;
            // The narrowest accelerated vector that covers an output row: a 14-wide row wastes half a 512-bit vector.
            int bits = _portableBits;
            while (bits > 128 && g.OutWidth <= bits / 32) bits /= 2;
            switch (bits)
            {
                case 512: Parallelism.For(images, work, job, static (item, j) => Image<Int16x512, Vector512<short>>(j, item)); break;
                case 256: Parallelism.For(images, work, job, static (item, j) => Image<Int16x256, Vector256<short>>(j, item)); break;
                default: Parallelism.For(images, work, job, static (item, j) => Image<Int16x128, Vector128<short>>(j, item)); break;
            }
        }
    }

    private unsafe struct Job
    {
        public SlidingWindow Window;
        public byte* Counts;
        public float* Output;
        public sbyte* Codes;
        public float* Scales;
        public float* Bias;
        public int Limit;
    }

    /// <summary>One image, plane by plane: a bordered copy of the plane, then the taps summed row by row.</summary>
    [SkipLocalsInit]
    private static unsafe void Image<TLanes, TVec>(Job job, int image) where TLanes : struct, IInt16Lanes<TVec> where TVec : struct
    {
        var g = job.Window;
        int n = TLanes.Count;
        int kh = g.KernelHeight, kw = g.KernelWidth, p = g.Padding, wo = g.OutWidth;
        int paddedWidth = g.Width + 2 * p, paddedHeight = g.Height + 2 * p;
        // The last vector of a row may read up to n bytes past the row's last window: the slack keeps it inside the buffer.
        int length = paddedHeight * paddedWidth + n + kw;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        var rowSums = ArrayPool<int>.Shared.Rent(wo + n);
        try
        {
            fixed (byte* plane = buffer)
            fixed (int* sums = rowSums)
            {
                new Span<byte>(plane, length).Clear();
                for (int c = 0; c < g.Channels; c++)
                {
                    long item = (long)image * g.Channels + c;
                    byte* source = job.Counts + item * g.Height * g.Width;
                    for (int y = 0; y < g.Height; y++)
                    {
                        new ReadOnlySpan<byte>(source + y * g.Width, g.Width).CopyTo(new Span<byte>(plane + (y + p) * paddedWidth + p, g.Width));
                    }
                    sbyte* codes = job.Codes + c * kh * kw;
                    float scale = job.Scales[c];
                    float* bias = job.Bias == null ? null : job.Bias + c;
                    float* output = job.Output + item * g.Positions;
                    for (int oy = 0; oy < g.OutHeight; oy++)
                    {
                        new Span<int>(sums, wo).Clear();
                        if (g.Stride == 1) RowStrideOne<TLanes, TVec>(plane + oy * paddedWidth, paddedWidth, codes, kh, kw, wo, job.Limit, sums);
                        else RowStrided(plane + oy * g.Stride * paddedWidth, paddedWidth, codes, kh, kw, wo, g.Stride, sums);
                        float* o = output + oy * wo;
                        for (int ox = 0; ox < wo; ox++) o[ox] = bias != null ? QuantizedEpilogue.Apply(sums[ox], scale, *bias) : QuantizedEpilogue.Apply(sums[ox], scale);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            ArrayPool<int>.Shared.Return(rowSums);
        }
    }

    /// <summary>One output row at stride 1: for each run of vector columns, every tap's shifted input row times its code.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RowStrideOne<TLanes, TVec>(byte* top, int paddedWidth, sbyte* codes, int kh, int kw, int wo, int limit, int* sums)
        where TLanes : struct, IInt16Lanes<TVec> where TVec : struct
    {
        int n = TLanes.Count, taps = kh * kw;
        for (int x = 0; x < wo; x += n)
        {
            int* destination = sums + x;
            for (int start = 0; start < taps; start += limit)
            {
                int end = Math.Min(taps, start + limit);
                TVec acc = TLanes.Zero;
                for (int t = start; t < end; t++)
                {
                    int i = t / kw, j = t - i * kw;
                    acc = TLanes.MultiplyAdd(acc, TLanes.LoadBytes(top + i * paddedWidth + j + x), TLanes.Broadcast(codes[t]));
                }
                TLanes.AddWidened(acc, destination);
            }
        }
    }

    /// <summary>One output row at a stride other than 1, scalar.</summary>
    private static unsafe void RowStrided(byte* top, int paddedWidth, sbyte* codes, int kh, int kw, int wo, int stride, int* sums)
    {
        for (int ox = 0; ox < wo; ox++)
        {
            int s = 0;
            for (int i = 0; i < kh; i++)
            {
                for (int j = 0; j < kw; j++) s += top[i * paddedWidth + ox * stride + j] * codes[i * kw + j];
            }
            sums[ox] = s;
        }
    }

    private static int CheckWindow(int channels, int kernelHeight, int kernelWidth, int stride, int padding)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(channels);
        ArgumentOutOfRangeException.ThrowIfLessThan(kernelHeight, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(kernelWidth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        long taps = (long)kernelHeight * kernelWidth;
        if (taps > QuantizedLinearKernel.MaxInFeatures) throw new ArgumentOutOfRangeException(nameof(kernelHeight), $"A {kernelHeight}×{kernelWidth} kernel has more taps than an int32 sum holds exactly.");
        return (int)taps;
    }
}
