using System;
using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// <c>a - b</c> with NumPy broadcasting. Either operand may hold spikes (each reads as 0 or 1): the result is
    /// dense, made by adding ±1 where a bit is set, without unpacking the spikes. The gradients are <c>G</c> and
    /// <c>-G</c> summed down to each operand's shape, spikes included.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast.</exception>
    public static Variable Subtract(Variable a, Variable b) => SubtractNode.Forward(a, b);
}

/// <summary>Elementwise difference. Saves only the input shapes: <c>da = G</c> and <c>db = -G</c>, each summed down
/// to its input's shape.</summary>
internal sealed class SubtractNode : Node
{
    private readonly Shape _a, _b;

    private SubtractNode(Variable a, Variable b) : base(a, b)
    {
        _a = a.Shape;
        _b = b.Shape;
    }

    public override string Name => "subtract";

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
    }

    public static Variable Forward(Variable a, Variable b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var y = a.IsSpikes || b.IsSpikes ? SpikeOperands.Sum(a, b, -1f, "subtract") : a.Tensor!.Subtract(b.Tensor!);
        return Variable.FromOp(y, Record(() => new SubtractNode(a, b), a, b));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        Tensor? db = null;
        if (NeedsGrad(1))
        {
            db = Broadcasting.Unbroadcast(gradOutput, _b);
            db.MultiplyInPlace(-1f);
        }
        return [NeedsGrad(0) ? Broadcasting.Unbroadcast(gradOutput, _a) : null, db];
    }
}
