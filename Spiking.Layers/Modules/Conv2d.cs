using System;
using Spiking.Autograd;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Layers;

/// <summary>
/// Multi-step 2-D convolution (SpikingJelly's <c>layer.Conv2d</c>): <c>[T, B, C, H, W]</c> folds into
/// <c>[T·B, C, H, W]</c>, is convolved with PyTorch's <c>weight [O, C, kh, kw]</c>, and unfolds to
/// <c>[T, B, O, Ho, Wo]</c>. Spike input is unrolled into bit columns and runs the spike kernels; dense input runs
/// im2col and the SGEMM.
/// </summary>
public sealed class Conv2d : Module, IOperationCounter
{
    private readonly TransposedWeightCache _cache = new();

    /// <summary>A square-kernel convolution, initialised as PyTorch's.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive or the padding is negative.</exception>
    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, bool bias = true, PhiloxGenerator? generator = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernelSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        (InChannels, OutChannels, KernelSize, Stride, Padding) = (inChannels, outChannels, kernelSize, stride, padding);
        generator ??= ModelSeed.Shared;
        int fanIn = inChannels * kernelSize * kernelSize;
        Weight = RegisterParameter("weight", Tensor.Empty(outChannels, inChannels, kernelSize, kernelSize));
        Initialization.FanInUniform(Weight.Value, fanIn, generator);
        if (bias)
        {
            Bias = RegisterParameter("bias", Tensor.Empty(outChannels));
            Initialization.FanInUniform(Bias.Value, fanIn, generator);
        }
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

    /// <summary>The weight <c>[O, C, k, k]</c>.</summary>
    public Parameter Weight { get; }

    /// <summary>The bias <c>[O]</c>, or null.</summary>
    public Parameter? Bias { get; }

    /// <inheritdoc/>
    public OperationCounts Operations { get; } = new();

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not <c>[T, B, C, H, W]</c> with C input channels.</exception>
    public override Variable Forward(Variable input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var shape = input.Shape;
        if (shape.Rank != 5 || shape[2] != InChannels)
        {
            throw new ArgumentException($"Conv2d({InChannels}→{OutChannels}) needs an input of [T, B, {InChannels}, H, W]; it has shape {shape}.", nameof(input));
        }
        int t = shape[0], b = shape[1];
        var folded = Functional.Reshape(input, t * b, shape[2], shape[3], shape[4]);
        var y = Functional.Conv2d(folded, Weight, Bias?.Variable, Stride, Padding, _cache);
        var ys = y.Shape;
        if (Operations.Enabled) Count(input, ys[2], ys[3]);
        return Functional.Reshape(y, t, b, ys[1], ys[2], ys[3]);
    }

    private void Count(Variable input, int outHeight, int outWidth)
    {
        ConvolutionFanOut.Count(Operations, input, KernelSize, Stride, Padding, outHeight, outWidth, OutChannels, InChannels * KernelSize * KernelSize);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) _cache.Dispose();
        base.Dispose(disposing);
    }
}
