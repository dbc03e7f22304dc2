using System.Collections.Generic;
using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// Joins <paramref name="xs"/>, which must all have the same shape, along a new axis at <paramref name="axis"/>
    /// (in <c>[-(rank+1), rank]</c>; stacking time steps is <c>Stack(steps, 0)</c>). All inputs dense give a dense
    /// result; all spikes give spikes (whole packed rows copied, or, for a new last axis, one bit per input in each
    /// row). Mixing the two is refused: convert the spikes explicitly with <see cref="SpikesToDense"/>. The gradient
    /// of each input is its slice of the (dense) output gradient.
    /// </summary>
    /// <exception cref="System.ArgumentException">The list is empty, some inputs hold spikes and others not, or the shapes differ.</exception>
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

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
    }

    public static Variable Forward(IReadOnlyList<Variable> xs, int axis)
    {
        OpChecks.NonEmpty(xs, nameof(xs), "Stack");
        bool spikes = OpChecks.SameKind(xs, nameof(xs), "Stack");
        var inputs = new Variable[xs.Count];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = xs[i];
        if (spikes)
        {
            var bits = new SpikeTensor[inputs.Length];
            for (int i = 0; i < bits.Length; i++) bits[i] = inputs[i].Spikes!;
            var s = SpikeTensor.Stack(bits, axis);
            int sa = axis < 0 ? axis + s.Shape.Rank : axis;
            return Variable.FromOp(s, Record(() => new StackNode(inputs, sa), inputs));
        }
        var values = new Tensor[inputs.Length];
        for (int i = 0; i < values.Length; i++) values[i] = inputs[i].Tensor!;
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
