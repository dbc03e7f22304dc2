using System;
using Spiking.Tensors;
using Spiking.Tensors.Backends;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// 2-D max pooling as PyTorch's <c>max_pool2d</c> in floor mode: <paramref name="x"/> <c>[N, C, H, W]</c> gives
    /// <c>[N, C, (H + 2p − k) / s + 1, (W + 2p − k) / s + 1]</c>, the stride defaulting to the kernel. Spikes in
    /// give spikes out, ORed as bits; dense in gives dense out. Fold a time axis into N first.
    /// </summary>
    /// <remarks>
    /// Padding is −∞ as in PyTorch, so it never wins; on spikes it reads as 0, the OR identity, which gives the
    /// same result because a window always holds a real element (<c>p ≤ k / 2</c>).
    /// Backward: each output gradient goes to the position of its window's maximum, the first maximal real element
    /// in row-major window order as in PyTorch; for spikes, the first set bit, or the window's first real element
    /// when none is set. Overlapping windows (stride below the kernel) add up.
    /// </remarks>
    /// <param name="x">The input <c>[N, C, H, W]</c>, dense or spikes.</param>
    /// <param name="kernel">The square window's side.</param>
    /// <param name="stride">The step between windows; the kernel by default.</param>
    /// <param name="padding">The implicit −∞ border on each side, at most <c>kernel / 2</c>.</param>
    /// <exception cref="ArgumentException">
    /// x is not rank 4, the kernel or stride is below 1, the padding is negative or above <c>kernel / 2</c>, or the
    /// window is larger than the padded input.
    /// </exception>
    public static Variable MaxPool2d(Variable x, int kernel, int? stride = null, int padding = 0) => MaxPool2dNode.Forward(x, kernel, stride, padding);
}

/// <summary>Max pooling on dense or spike input. Saves the input (a dense view, or the bits), from which backward finds each maximum again.</summary>
internal sealed class MaxPool2dNode : Node
{
    private readonly ConvGeometry _g;
    private SavedTensor? _x;
    private SpikeTensor? _spikes;

    private MaxPool2dNode(Variable x, ConvGeometry g) : base(x)
    {
        _g = g;
        if (x.Spikes is { } spikes) _spikes = SavedTensor.Keep(spikes);
        else _x = new SavedTensor(x.Tensor!, "max_pool2d's input");
    }

    public override string Name => "max_pool2d";

    public static Variable Forward(Variable x, int kernel, int? stride, int padding)
    {
        ArgumentNullException.ThrowIfNull(x);
        var g = PoolWindow.Of(x.Shape, kernel, stride, padding, "MaxPool2d");
        var outShape = new Shape(x.Shape[0], x.Shape[1], g.OutHeight, g.OutWidth);
        var node = Record(() => new MaxPool2dNode(x, g), x);
        var device = x.Device;
        if (device.Kind != DeviceKind.Cpu)
        {
            var window = Window(x.Shape, g);
            var backend = ComputeBackend.For(device);
            if (x.Spikes is { } bits)
            {
                var y = SpikeTensor.Zeros(outShape, device);
                backend.MaxPool(bits, window, y);
                return Variable.FromOp(y, node);
            }
            var pooled = Tensor.Empty(outShape, device);
            backend.MaxPool(x.Tensor!, window, pooled);
            return Variable.FromOp(pooled, node);
        }
        if (x.Spikes is { } spikes)
        {
            var y = SpikeTensor.Zeros(outShape);
            Pool.MaxForwardBits(spikes, g.Channels, g, y);
            return Variable.FromOp(y, node);
        }
        var dense = Tensor.Empty(outShape);
        Pool.MaxForward(x.Tensor!, g.Channels, g, dense);
        return Variable.FromOp(dense, node);
    }

    /// <summary>The device kernels' view of the window over <paramref name="x"/> <c>[N, C, H, W]</c>.</summary>
    private static SlidingWindow Window(Shape x, ConvGeometry g) =>
        new(x[0], x[1], g.Height, g.Width, g.KernelHeight, g.KernelWidth, g.Stride, g.Padding);

    private Tensor?[] DeviceBackward(Tensor gradOutput)
    {
        var dx = Tensor.Empty(Inputs[0].Shape, gradOutput.Device);
        var window = Window(Inputs[0].Shape, _g);
        if (_spikes is not null) gradOutput.Backend.MaxPoolBackward(gradOutput, _spikes, window, dx);
        else gradOutput.Backend.MaxPoolBackward(gradOutput, _x!.Value, window, dx);
        return [dx];
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        if (!gradOutput.IsOnHost) return DeviceBackward(gradOutput);
        var dx = Tensor.Empty(Inputs[0].Shape);
        if (_spikes is not null) Pool.MaxBackwardBits(gradOutput, _spikes, _g.Channels, _g, dx);
        else Pool.MaxBackward(gradOutput, _x!.Value, _g.Channels, _g, dx);
        return [dx];
    }

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
        saved.Add("input", _x);
        saved.Add("input", _spikes);
    }

    protected internal override void ReleaseSaved()
    {
        _x?.Release();
        _spikes?.Dispose();
        _x = null;
        _spikes = null;
    }
}
