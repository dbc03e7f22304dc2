using System;
using Spiking.Autograd;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// The QSD-Transformer's <c>Conv2dLSQ</c>: a square-kernel 2-D convolution, dense (<c>groups</c> = 1) or depthwise
/// (<c>groups</c> = in = out channels), whose weight <c>[O, in/groups, k, k]</c> is quantized by LSQ per output
/// channel (<see cref="LsqLayer"/>). Input <c>[…, C, H, W]</c>: the leading axes (<c>[T, B]</c> or an already
/// folded <c>[T·B]</c>) fold into the batch and come back on the output <c>[…, O, Ho, Wo]</c>.
/// </summary>
public sealed class LsqConv2d : LsqLayer
{
    /// <summary>A convolution initialised as PyTorch's <c>nn.Conv2d</c> (bound <c>1/√((in/groups)·k·k)</c>), with <paramref name="bits"/>-bit weights.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, the padding is negative, or <paramref name="bits"/> is not 4 or 8.</exception>
    /// <exception cref="ArgumentException"><paramref name="groups"/> is neither 1 nor the channel count of a depthwise convolution (in = out = groups).</exception>
    public LsqConv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int groups = 1, bool bias = true, int bits = 4,
        PhiloxGenerator? generator = null)
        : base(new Shape(Positive(outChannels, nameof(outChannels)), InPerGroup(inChannels, outChannels, groups), Positive(kernelSize, nameof(kernelSize)), kernelSize),
            inChannels / groups * kernelSize * kernelSize, inChannels, bias, bits, generator)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        (InChannels, OutChannels, KernelSize, Stride, Padding, Groups) = (inChannels, outChannels, kernelSize, stride, padding, groups);
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>The kernel's height and width.</summary>
    public int KernelSize { get; }

    /// <summary>The stride.</summary>
    public int Stride { get; }

    /// <summary>The zero padding on each side.</summary>
    public int Padding { get; }

    /// <summary>1, or the channel count of a depthwise convolution.</summary>
    public int Groups { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not <c>[…, C, H, W]</c> with C input channels.</exception>
    public override Variable Forward(Variable input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var shape = input.Shape;
        if (shape.Rank < 4 || shape[-3] != InChannels)
        {
            throw new ArgumentException($"LsqConv2d({InChannels}→{OutChannels}) needs an input of [..., {InChannels}, H, W] (such as [T, B, C, H, W]); it has shape {shape}.", nameof(input));
        }
        int images = shape.ProductOfLeading(shape.Rank - 3);
        var folded = Functional.Reshape(input, images, InChannels, shape[-2], shape[-1]);
        var y = IntegerCounts(input, out float unit) is { } counts ? Integer(counts, unit, images, shape[-2], shape[-1])
            : Quantized(q => Groups == 1
                ? Functional.Conv2d(folded, q, null, Stride, Padding)
                : Functional.DepthwiseConv2d(folded, q, null, Stride, Padding), outputAxis: 1);
        var ys = y.Shape;
        if (Operations.Enabled) Count(input, ys[2], ys[3]);
        var dims = shape.Dimensions.ToArray();
        (dims[^3], dims[^2], dims[^1]) = (OutChannels, ys[2], ys[3]);
        return Functional.Reshape(y, dims);
    }

    // A dense tap reaches every output channel; a depthwise one only its own, so its window spans one channel of each of the C planes.
    private void Count(Variable input, int outHeight, int outWidth)
    {
        bool dense = Groups == 1;
        ConvolutionFanOut.Count(Operations, input, KernelSize, Stride, Padding, outHeight, outWidth,
            outChannels: dense ? OutChannels : 1, windowInputs: (long)(dense ? InChannels : OutChannels) * KernelSize * KernelSize);
    }

    private Variable Integer(byte[] counts, float unit, int images, int height, int width)
    {
        try
        {
            int outHeight = (height + 2 * Padding - KernelSize) / Stride + 1, outWidth = (width + 2 * Padding - KernelSize) / Stride + 1;
            var y = Tensor.Empty(new Shape(images, OutChannels, outHeight, outWidth));
            if (Groups == 1)
            {
                IntegerKernel(unit, (weight, bias) => weight.ToConvKernel(Stride, Padding, bias)).Forward(counts.AsSpan(0, images * InChannels * height * width), images, height, width, y.AsSpan());
            }
            else
            {
                IntegerKernel(unit, (weight, bias) => weight.ToDepthwiseConvKernel(Stride, Padding, bias)).Forward(counts.AsSpan(0, images * InChannels * height * width), images, height, width, y.AsSpan());
            }
            return Variable.Constant(y);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(counts);
        }
    }

    private static int InPerGroup(int inChannels, int outChannels, int groups)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inChannels);
        if (groups != 1 && !(groups == inChannels && outChannels == inChannels))
        {
            throw new ArgumentException(
                $"LsqConv2d takes groups = 1 (dense) or groups = in = out channels (depthwise); got groups {groups} for {inChannels}→{outChannels} channels.", nameof(groups));
        }
        return inChannels / groups;
    }
}
