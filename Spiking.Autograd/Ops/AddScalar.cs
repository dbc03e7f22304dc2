using System;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary><c>x + value</c> for every element; spikes read as 0 or 1 and give a dense result.</summary>
    public static Variable Add(Variable x, float value) => AddScalarNode.Forward(x, value);

    /// <summary><c>x - value</c> for every element; spikes read as 0 or 1 and give a dense result.</summary>
    public static Variable Subtract(Variable x, float value) => AddScalarNode.Forward(x, -value);
}

/// <summary>Adds a constant to every element: <c>dx = G</c>. Saves nothing.</summary>
internal sealed class AddScalarNode : Node
{
    private AddScalarNode(Variable x) : base(x)
    {
    }

    public override string Name => "add scalar";

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
    }

    public static Variable Forward(Variable x, float value)
    {
        ArgumentNullException.ThrowIfNull(x);
        Tensor y;
        if (x.Spikes is { } bits)
        {
            y = Tensor.Full(bits.Shape, value);
            SpikeBroadcast.AddWhereSet(y, bits, 1f);
        }
        else
        {
            y = x.Tensor!.Add(value);
        }
        return Variable.FromOp(y, Record(() => new AddScalarNode(x), x));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput) => [gradOutput.Clone()];
}
