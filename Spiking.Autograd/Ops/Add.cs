using System;
using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// <c>a + b</c> with NumPy broadcasting (a bias <c>[N]</c> onto <c>[B, N]</c>, say). Either operand may hold
    /// spikes (each reads as 0 or 1): the result is dense, made by adding 1 where a bit is set, without unpacking the
    /// spikes. The gradient of each operand, spikes included, is the output gradient summed down to its shape.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast.</exception>
    public static Variable Add(Variable a, Variable b) => AddNode.Forward(a, b);
}

/// <summary>Elementwise addition. Saves only the input shapes: the gradient of each input is the output gradient
/// summed down to that input's shape.</summary>
internal sealed class AddNode : Node
{
    private readonly Shape _a, _b;

    private AddNode(Variable a, Variable b) : base(a, b)
    {
        _a = a.Shape;
        _b = b.Shape;
    }

    public override string Name => "add";

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
    }

    public static Variable Forward(Variable a, Variable b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var y = a.IsSpikes || b.IsSpikes ? SpikeOperands.Sum(a, b, 1f, "add") : a.Tensor!.Add(b.Tensor!);
        return Variable.FromOp(y, Record(() => new AddNode(a, b), a, b));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput) =>
    [
        NeedsGrad(0) ? Broadcasting.Unbroadcast(gradOutput, _a) : null,
        NeedsGrad(1) ? Broadcasting.Unbroadcast(gradOutput, _b) : null,
    ];
}
