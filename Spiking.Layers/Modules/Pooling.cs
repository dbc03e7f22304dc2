using System;
using Spiking.Autograd;

namespace Spiking.Layers;

/// <summary>
/// Multi-step 2-D pooling over <c>[T, B, C, H, W]</c> (folded into <c>[T·B, C, H, W]</c>), with no padding and
/// floor rounding, as PyTorch's defaults.
/// </summary>
public abstract class Pool2d : Module
{
    private protected Pool2d(int kernelSize, int? stride)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernelSize);
        if (stride is <= 0) throw new ArgumentOutOfRangeException(nameof(stride), stride, "Pooling needs a positive stride.");
        (KernelSize, Stride) = (kernelSize, stride ?? kernelSize);
    }

    /// <summary>The window's height and width.</summary>
    public int KernelSize { get; }

    /// <summary>The stride (the kernel size by default).</summary>
    public int Stride { get; }

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
/// first maximal element of each window, as PyTorch's.
/// </summary>
public sealed class MaxPool2d : Pool2d
{
    /// <summary>Max pooling with a square window.</summary>
    public MaxPool2d(int kernelSize, int? stride = null) : base(kernelSize, stride)
    {
    }

    private protected override Variable Pool(Variable folded) => Functional.MaxPool2d(folded, KernelSize, Stride);
}

/// <summary>Average pooling; spike input gives a dense output (window firing fractions).</summary>
public sealed class AvgPool2d : Pool2d
{
    /// <summary>Average pooling with a square window.</summary>
    public AvgPool2d(int kernelSize, int? stride = null) : base(kernelSize, stride)
    {
    }

    private protected override Variable Pool(Variable folded) => Functional.AvgPool2d(folded, KernelSize, Stride);
}
