using System;
using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary><c>-x</c> elementwise; spikes give a dense result (-1 where a bit is set, -0 elsewhere, as the negated 0/1 floats).</summary>
    public static Variable Negate(Variable x) => NegateNode.Forward(x);
}

/// <summary>Elementwise negation: <c>dx = -G</c>. Saves nothing.</summary>
internal sealed class NegateNode : Node
{
    private NegateNode(Variable x) : base(x)
    {
    }

    public override string Name => "negate";

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
    }

    public static Variable Forward(Variable x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var y = x.Spikes is { } bits ? SpikeOperands.Fill(bits, -1f, -0f) : x.Tensor!.Negate();
        return Variable.FromOp(y, Record(() => new NegateNode(x), x));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput) => [gradOutput.Negate()];
}
