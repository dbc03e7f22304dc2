using System;
using Spiking.Autograd;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// Multi-step depthwise 2-D convolution (PyTorch's <c>nn.Conv2d(C, C, k, groups=C)</c> under SpikingJelly's
/// multi-step wrapper): <c>[T, B, C, H, W]</c> folds into <c>[T·B, C, H, W]</c>, each channel is convolved with its
/// own filter of <c>weight [C, 1, k, k]</c>, and the result unfolds to <c>[T, B, C, Ho, Wo]</c>. Spike input is
/// unpacked one channel plane at a time (see <see cref="Functional.DepthwiseConv2d"/>).
/// </summary>
public sealed class DepthwiseConv2d : Module, IOperationCounter
{
    /// <summary>A square-kernel depthwise convolution, initialised as PyTorch's (fan-in k·k, bound 1/√(k·k)).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive or the padding is negative.</exception>
    public DepthwiseConv2d(int channels, int kernelSize, int stride = 1, int padding = 0, bool bias = true, PhiloxGenerator? generator = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernelSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        (Channels, KernelSize, Stride, Padding) = (channels, kernelSize, stride, padding);
        generator ??= ModelSeed.Shared;
        int fanIn = kernelSize * kernelSize;
        Weight = RegisterParameter("weight", Tensor.Empty(channels, 1, kernelSize, kernelSize));
        Initialization.FanInUniform(Weight.Value, fanIn, generator);
        if (bias)
        {
            Bias = RegisterParameter("bias", Tensor.Empty(channels));
            Initialization.FanInUniform(Bias.Value, fanIn, generator);
        }
    }

    /// <summary>Input and output channels.</summary>
    public int Channels { get; }

    /// <summary>The kernel's height and width.</summary>
    public int KernelSize { get; }

    /// <summary>The stride.</summary>
    public int Stride { get; }

    /// <summary>The zero padding on each side.</summary>
    public int Padding { get; }

    /// <summary>The weight <c>[C, 1, k, k]</c>.</summary>
    public Parameter Weight { get; }

    /// <summary>The bias <c>[C]</c>, or null.</summary>
    public Parameter? Bias { get; }

    /// <inheritdoc/>
    public OperationCounts Operations { get; } = new();

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not <c>[T, B, C, H, W]</c> with C channels.</exception>
    public override Variable Forward(Variable input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var shape = input.Shape;
        if (shape.Rank != 5 || shape[2] != Channels)
        {
            throw new ArgumentException($"DepthwiseConv2d({Channels}) needs an input of [T, B, {Channels}, H, W]; it has shape {shape}.", nameof(input));
        }
        int t = shape[0], b = shape[1];
        var folded = Functional.Reshape(input, t * b, shape[2], shape[3], shape[4]);
        var y = Functional.DepthwiseConv2d(folded, Weight, Bias?.Variable, Stride, Padding);
        var ys = y.Shape;
        if (Operations.Enabled) Count(input, ys[2], ys[3]);
        return Functional.Reshape(y, t, b, ys[1], ys[2], ys[3]);
    }

    // A spike reaches only its own channel's output plane, so its fan-out is that of a one-output-channel convolution.
    private void Count(Variable input, int outHeight, int outWidth) =>
        ConvolutionFanOut.Count(Operations, input, KernelSize, Stride, Padding, outHeight, outWidth, outChannels: 1, windowInputs: (long)Channels * KernelSize * KernelSize);
}
