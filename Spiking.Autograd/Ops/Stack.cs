using System.Collections.Generic;
using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// Joins <paramref name="xs"/>, which must all have the same shape, along a new axis at <paramref name="axis"/>
    /// (in <c>[-(rank+1), rank]</c>; stacking time steps is <c>Stack(steps, 0)</c>). The gradient of each input is
    /// its slice of the output gradient.
    /// </summary>
    /// <exception cref="System.ArgumentException">The list is empty, an input holds spikes, or the shapes differ.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="axis"/> is outside <c>[-(rank+1), rank]</c>.</exception>
    public static Variable Stack(IReadOnlyList<Variable> xs, int axis = 0) => StackNode.Forward(xs, axis);
}

/// <summary>Stacking along a new axis. Saves only the axis.</summary>
internal sealed class StackNode : Node
{
    private readonly int _axis;

    private StackNode(Variable[] xs, int axis) : base(xs)
    {
        _axis = axis;
    }

    public override string Name => "stack";

    public static Variable Forward(IReadOnlyList<Variable> xs, int axis)
    {
        OpChecks.NonEmpty(xs, nameof(xs), "Stack");
        var inputs = new Variable[xs.Count];
        var values = new Tensor[xs.Count];
        for (int i = 0; i < inputs.Length; i++)
        {
            inputs[i] = xs[i];
            values[i] = OpChecks.Dense(xs[i], $"{nameof(xs)}[{i}]", "Stack");
        }
        var y = Tensor.Stack(values, axis);
        int a = axis < 0 ? axis + y.Rank : axis;
        return Variable.FromOp(y, Record(() => new StackNode(inputs, a), inputs));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        var grads = new Tensor?[Inputs.Count];
        for (int i = 0; i < grads.Length; i++)
        {
            if (!NeedsGrad(i)) continue;
            using var slice = gradOutput.Narrow(_axis, i, 1);
            grads[i] = slice.Reshape(Inputs[i].Shape);
        }
        return grads;
    }
}
