using System;
using System.Collections.Generic;
using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// Every index along <paramref name="axis"/> (negative counts from the end), each without that axis: the
    /// <see cref="Select"/>s of all of them, made by one node (PyTorch's <c>unbind</c>). The time steps of
    /// <c>[T, …]</c> (axis 0) are views; spikes stay bits. The backward writes each piece's gradient into its slice of
    /// the input's gradient; pieces no gradient reached leave theirs zero. An axis of size 0 gives no pieces.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> is a scalar, or holds spikes of rank 1 (the pieces would be scalars).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="axis"/> is outside <c>[-rank, rank)</c>.</exception>
    public static IReadOnlyList<Variable> Unbind(Variable x, int axis = 0) => UnbindNode.Forward(x, axis);
}

/// <summary>
/// All slices along one axis as the outputs of one node. Saves only the axis; the backward adds each output's
/// gradient into its slice of the input's running gradient.
/// </summary>
internal sealed class UnbindNode : MultiOutputNode
{
    private readonly int _axis;

    private UnbindNode(Variable x, int axis, int count) : base(count, x)
    {
        _axis = axis;
    }

    public override string Name => "unbind";

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
    }

    public static IReadOnlyList<Variable> Forward(Variable x, int axis)
    {
        int a = AxisSlice.Axis(x, axis, "Unbind");
        AxisSlice.ThrowIfScalarSpikes(x, "Unbind");
        int count = x.Shape[a];
        if (count == 0) return [];
        var shape = AxisSlice.Without(x.Shape, a);
        var node = Record(() => new UnbindNode(x, a, count), x);
        var pieces = new Variable[count];
        for (int i = 0; i < count; i++)
        {
            // Without a node (no grad) every piece is a plain result: output 0 of nothing.
            int output = node is null ? 0 : i;
            pieces[i] = x.Spikes is { } spikes
                ? Variable.FromOp(AxisSlice.Take(spikes, a, i, 1, drop: true, shape), node, output)
                : Variable.FromOp(AxisSlice.Take(x.Tensor!, a, i, 1, shape), node, output);
        }
        return pieces;
    }

    protected internal override void Backward(IReadOnlyList<Tensor?> gradOutputs, InputGradients gradients)
    {
        ArgumentNullException.ThrowIfNull(gradOutputs);
        ArgumentNullException.ThrowIfNull(gradients);
        if (gradients.Accumulator(0) is not { } into) return;
        for (int i = 0; i < gradOutputs.Count; i++)
        {
            if (gradOutputs[i] is { } g) AxisSlice.AddInto(into, _axis, i, 1, g);
        }
    }
}
