using System;
using System.Collections.Generic;
using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// Index <paramref name="index"/> along <paramref name="axis"/>, with that axis removed (PyTorch's
    /// <c>select</c>; negative axes and indices count from the end). Time step t of <c>[T, …]</c> is
    /// <c>Select(x, 0, t)</c> (or <c>x[t]</c>): a view, no copy, and its backward adds into that step of the input's
    /// gradient only, so taking all T steps costs T steps, not T². Along another axis the slice is copied. Spikes stay
    /// bits: a view along the leading axes, a copy of whole packed rows along the others, and one bit gathered from
    /// each row along the packed last axis. The gradient of the input is the output gradient in its slice, zero
    /// elsewhere.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> is a scalar, or holds spikes of rank 1 (the result would be a scalar).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="axis"/> is outside <c>[-rank, rank)</c> or <paramref name="index"/> outside <c>[-size, size)</c> of that axis.</exception>
    public static Variable Select(Variable x, int axis, int index)
    {
        int a = AxisSlice.Axis(x, axis, "Select");
        int i = AxisSlice.Index(x, a, index, nameof(index), "Select");
        AxisSlice.ThrowIfScalarSpikes(x, "Select");
        return NarrowNode.Forward(x, a, i, 1, drop: true);
    }

    /// <summary>
    /// Elements <c>[start, start + length)</c> along <paramref name="axis"/>, every other axis whole (PyTorch's
    /// <c>narrow</c>; a negative axis or start counts from the end). A view when every axis before
    /// <paramref name="axis"/> has size 1 (steps of <c>[T, …]</c> along axis 0), a copy otherwise; spikes stay bits
    /// (along the packed last axis each row's bits are shifted to its start, padding kept zero). The backward adds the
    /// output gradient into that slice of the input's gradient only.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> is a scalar.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="axis"/> is outside <c>[-rank, rank)</c>, <paramref name="start"/> outside <c>[-size, size]</c>, or <paramref name="length"/> negative or past the end of the axis.</exception>
    public static Variable Narrow(Variable x, int axis, int start, int length)
    {
        int a = AxisSlice.Axis(x, axis, "Narrow");
        int size = x.Shape[a];
        int s = start < 0 ? start + size : start;
        if (s < 0 || s > size)
        {
            throw new ArgumentOutOfRangeException(nameof(start), start,
                $"Narrow: start {start} is outside [-{size}, {size}] along axis {a} of 'x' (shape {x.Shape}, size {size}).");
        }
        if (length < 0 || length > size - s)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length,
                $"Narrow: length {length} from start {s} leaves axis {a} of 'x' (shape {x.Shape}, size {size}); it must be in [0, {size - s}].");
        }
        return NarrowNode.Forward(x, a, s, length, drop: false);
    }
}

/// <summary>
/// A slice <c>[start, start + length)</c> along one axis, the axis kept (Narrow) or dropped (Select). Saves only the
/// axis and the range: the backward adds the output gradient into that slice of the input's running gradient
/// (<see cref="InputGradients.Accumulator"/>), touching nothing else, so many slices of one input cost their own size.
/// </summary>
internal sealed class NarrowNode : Node
{
    private readonly int _axis, _start, _length;
    private readonly bool _drop;

    private NarrowNode(Variable x, int axis, int start, int length, bool drop) : base(x)
    {
        _axis = axis;
        _start = start;
        _length = length;
        _drop = drop;
    }

    public override string Name => _drop ? "select" : "narrow";

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
    }

    /// <summary>The slice of <paramref name="x"/>; the arguments are checked and normalised by the caller.</summary>
    public static Variable Forward(Variable x, int axis, int start, int length, bool drop)
    {
        var shape = drop ? AxisSlice.Without(x.Shape, axis) : x.Shape.WithDimension(axis, length);
        var node = Record(() => new NarrowNode(x, axis, start, length, drop), x);
        return x.Spikes is { } spikes
            ? Variable.FromOp(AxisSlice.Take(spikes, axis, start, length, drop, shape), node)
            : Variable.FromOp(AxisSlice.Take(x.Tensor!, axis, start, length, shape), node);
    }

    /// <summary>The whole gradient of the input: zero except for the slice. The graph uses the partial form below.</summary>
    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        var gradient = Tensor.Zeros(Inputs[0].Shape, gradOutput.Device);
        AxisSlice.AddInto(gradient, _axis, _start, _length, gradOutput);
        return [gradient];
    }

    protected internal override void Backward(IReadOnlyList<Tensor?> gradOutputs, InputGradients gradients)
    {
        ArgumentNullException.ThrowIfNull(gradOutputs);
        ArgumentNullException.ThrowIfNull(gradients);
        if (gradOutputs[0] is { } g && gradients.Accumulator(0) is { } into) AxisSlice.AddInto(into, _axis, _start, _length, g);
    }
}
