using System;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// 2-D average pooling as PyTorch's <c>avg_pool2d</c> in floor mode: <paramref name="x"/> <c>[N, C, H, W]</c>
    /// (dense or spikes, whose windows are counted on bits) gives a dense
    /// <c>[N, C, (H + 2p − k) / s + 1, (W + 2p − k) / s + 1]</c>, the stride defaulting to the kernel. Backward
    /// spreads <c>g / k²</c> over each window. Fold a time axis into N first.
    /// </summary>
    /// <remarks>
    /// Padding is zeros counted in the divisor, PyTorch's default <c>count_include_pad=True</c>: every window
    /// divides by <c>k²</c>, so a border window over fewer real elements averages lower, and the gradient share
    /// of its padding cells is dropped.
    /// </remarks>
    /// <param name="x">The input <c>[N, C, H, W]</c>, dense or spikes.</param>
    /// <param name="kernel">The square window's side.</param>
    /// <param name="stride">The step between windows; the kernel by default.</param>
    /// <param name="padding">The implicit zero border on each side, at most <c>kernel / 2</c>.</param>
    /// <exception cref="ArgumentException">
    /// x is not rank 4, the kernel or stride is below 1, the padding is negative or above <c>kernel / 2</c>, or the
    /// window is larger than the padded input.
    /// </exception>
    public static Variable AvgPool2d(Variable x, int kernel, int? stride = null, int padding = 0) => AvgPool2dNode.Forward(x, kernel, stride, padding);
}

/// <summary>Average pooling on dense or spike input. Saves nothing: the gradient depends only on the window geometry.</summary>
internal sealed class AvgPool2dNode : Node
{
    private readonly ConvGeometry _g;

    private AvgPool2dNode(Variable x, ConvGeometry g) : base(x)
    {
        _g = g;
    }

    public override string Name => "avg_pool2d";

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
    }

    public static Variable Forward(Variable x, int kernel, int? stride, int padding)
    {
        ArgumentNullException.ThrowIfNull(x);
        var g = PoolWindow.Of(x.Shape, kernel, stride, padding, "AvgPool2d");
        var y = Tensor.Empty(x.Shape[0], x.Shape[1], g.OutHeight, g.OutWidth);
        if (x.Spikes is { } spikes) Pool.AvgForwardBits(spikes, g.Channels, g, y);
        else Pool.AvgForward(x.Tensor!, g.Channels, g, y);
        return Variable.FromOp(y, Record(() => new AvgPool2dNode(x, g), x));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        var dx = Tensor.Empty(Inputs[0].Shape);
        Pool.AvgBackward(gradOutput, _g.Channels, _g, dx);
        return [dx];
    }
}
