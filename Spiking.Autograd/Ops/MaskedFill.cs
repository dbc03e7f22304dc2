using System;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// <paramref name="x"/> with <paramref name="value"/> written where <paramref name="mask"/> (spikes, broadcast to
    /// <paramref name="x"/>'s shape under NumPy rules) is set: PyTorch's <c>masked_fill</c>. The result has
    /// <paramref name="x"/>'s shape; the gradient of <paramref name="x"/> is the output gradient where the mask is
    /// clear and zero where it is set; the mask gets none.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> holds spikes, <paramref name="mask"/> is dense, or the mask does not broadcast to <paramref name="x"/>'s shape.</exception>
    public static Variable MaskedFill(Variable x, Variable mask, float value) => MaskedFillNode.Forward(x, mask, value);
}

/// <summary>Overwrites masked elements with a constant. Saves the mask's bits (a view): <c>dx = G</c> where the mask is clear.</summary>
internal sealed class MaskedFillNode : Node
{
    private SpikeTensor? _mask;

    private MaskedFillNode(Variable x, SpikeTensor mask) : base(x)
    {
        _mask = SavedTensor.Keep(mask);
    }

    public override string Name => "masked fill";

    public static Variable Forward(Variable x, Variable mask, float value)
    {
        var xv = OpChecks.Dense(x, nameof(x), "MaskedFill");
        var bits = OpChecks.Spikes(mask, nameof(mask), "MaskedFill");
        var shape = OpChecks.Broadcast("MaskedFill", xv.Shape, "'x'", bits.Shape, nameof(mask));
        if (shape != xv.Shape)
        {
            throw new ArgumentException(
                $"MaskedFill: 'mask' has shape {bits.Shape}, which must broadcast to the shape of 'x', {xv.Shape}; together they make {shape}.",
                nameof(mask));
        }
        using var fill = Tensor.Scalar(value);
        var y = SpikeBroadcast.Where(bits, fill, xv, shape);
        return Variable.FromOp(y, Record(() => new MaskedFillNode(x, bits), x));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        using var zero = Tensor.Scalar(0f);
        return [SpikeBroadcast.Where(_mask!, zero, gradOutput, gradOutput.Shape)];
    }

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
        saved.Add("mask", _mask);
    }

    protected internal override void ReleaseSaved()
    {
        _mask?.Dispose();
        _mask = null;
    }
}
