using System.Collections.Generic;
using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// Joins <paramref name="xs"/> along an existing <paramref name="axis"/> (negative counts from the end); every
    /// other axis must match. All inputs dense give a dense result; all spikes give spikes (bits are copied, or
    /// shifted along the packed last axis, never unpacked). Mixing the two is refused: convert the spikes explicitly
    /// with <see cref="SpikesToDense"/>. The gradient of each input is its slice of the (dense) output gradient.
    /// </summary>
    /// <exception cref="System.ArgumentException">The list is empty, some inputs hold spikes and others not, or the shapes differ off the axis.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="axis"/> is outside the shape.</exception>
    public static Variable Concat(IReadOnlyList<Variable> xs, int axis) => ConcatNode.Forward(xs, axis);
}

/// <summary>Concatenation along an axis. Saves only the axis and each input's offset along it.</summary>
internal sealed class ConcatNode : Node
{
    private readonly int _axis;
    private readonly int[] _starts;

    private ConcatNode(Variable[] xs, int axis, int[] starts) : base(xs)
    {
        _axis = axis;
        _starts = starts;
    }

    public override string Name => "concat";

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
    }

    public static Variable Forward(IReadOnlyList<Variable> xs, int axis)
    {
        OpChecks.NonEmpty(xs, nameof(xs), "Concat");
        bool spikes = OpChecks.SameKind(xs, nameof(xs), "Concat");
        var inputs = new Variable[xs.Count];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = xs[i];
        if (spikes)
        {
            var bits = new SpikeTensor[inputs.Length];
            for (int i = 0; i < bits.Length; i++) bits[i] = inputs[i].Spikes!;
            var s = SpikeTensor.Concat(bits, axis);
            return Variable.FromOp(s, Record(() => Create(inputs, s.Shape.NormalizeAxis(axis)), inputs));
        }
        var values = new Tensor[inputs.Length];
        for (int i = 0; i < values.Length; i++) values[i] = inputs[i].Tensor!;
        var y = Tensor.Concat(values, axis);
        return Variable.FromOp(y, Record(() => Create(inputs, y.Shape.NormalizeAxis(axis)), inputs));
    }

    private static ConcatNode Create(Variable[] inputs, int axis)
    {
        var starts = new int[inputs.Length];
        for (int i = 1; i < inputs.Length; i++) starts[i] = starts[i - 1] + inputs[i - 1].Shape[axis];
        return new ConcatNode(inputs, axis, starts);
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        var grads = new Tensor?[Inputs.Count];
        for (int i = 0; i < grads.Length; i++)
        {
            if (NeedsGrad(i)) grads[i] = gradOutput.Narrow(_axis, _starts[i], Inputs[i].Shape[_axis]);
        }
        return grads;
    }
}
