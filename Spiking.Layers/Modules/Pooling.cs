using System;
using Spiking.Autograd;

namespace Spiking.Layers;

/// <summary>
/// Multi-step 2-D pooling over <c>[T, B, C, H, W]</c> (folded into <c>[T·B, C, H, W]</c>), with floor rounding
/// and no padding by default, as PyTorch's defaults.
/// </summary>
public abstract class Pool2d : Module
{
    private protected Pool2d(int kernelSize, int? stride, int padding)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernelSize);
        if (stride is <= 0) throw new ArgumentOutOfRangeException(nameof(stride), stride, "Pooling needs a positive stride.");
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        if (padding > kernelSize / 2)
        {
            throw new ArgumentException(
                $"Pooling needs padding at most half the kernel size; padding is {padding} with kernel size {kernelSize}, so at most {kernelSize / 2}.", nameof(padding));
        }
        (KernelSize, Stride, Padding) = (kernelSize, stride ?? kernelSize, padding);
    }

    /// <summary>The window's height and width.</summary>
    public int KernelSize { get; }

    /// <summary>The stride (the kernel size by default).</summary>
    public int Stride { get; }

    /// <summary>The implicit border on each side (0 by default), at most half the kernel size.</summary>
    public int Padding { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not <c>[T, B, C, H, W]</c>.</exception>
    public override Variable Forward(Variable input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var shape = input.Shape;
        if (shape.Rank != 5)
        {
            throw new ArgumentException($"{GetType().Name} needs an input of [T, B, C, H, W]; it has shape {shape}.", nameof(input));
        }
        var folded = Functional.Reshape(input, shape[0] * shape[1], shape[2], shape[3], shape[4]);
        var y = Pool(folded);
        var ys = y.Shape;
        return Functional.Reshape(y, shape[0], shape[1], ys[1], ys[2], ys[3]);
    }

    private protected abstract Variable Pool(Variable folded);
}

/// <summary>
/// Max pooling; on spikes the output stays bits (the maximum of bits is their OR), and the gradient goes to the
/// first maximal element of each window, as PyTorch's. Padding is −∞ (never the maximum), as PyTorch's.
/// </summary>
public sealed class MaxPool2d : Pool2d
{
    /// <summary>Max pooling with a square window, as PyTorch's <c>MaxPool2d(kernelSize, stride, padding)</c>.</summary>
    /// <exception cref="ArgumentException">The kernel size or stride is not positive, or the padding is negative or above half the kernel size.</exception>
    public MaxPool2d(int kernelSize, int? stride = null, int padding = 0) : base(kernelSize, stride, padding)
    {
    }

    private protected override Variable Pool(Variable folded) => Functional.MaxPool2d(folded, KernelSize, Stride, Padding);
}

/// <summary>
/// Average pooling; spike input gives a dense output (window firing fractions). Padding is zeros counted in the
/// divisor (every window divides by k²), PyTorch's default <c>count_include_pad=True</c>.
/// </summary>
public sealed class AvgPool2d : Pool2d
{
    /// <summary>Average pooling with a square window, as PyTorch's <c>AvgPool2d(kernelSize, stride, padding)</c>.</summary>
    /// <exception cref="ArgumentException">The kernel size or stride is not positive, or the padding is negative or above half the kernel size.</exception>
    public AvgPool2d(int kernelSize, int? stride = null, int padding = 0) : base(kernelSize, stride, padding)
    {
    }

    private protected override Variable Pool(Variable folded) => Functional.AvgPool2d(folded, KernelSize, Stride, Padding);
}
