using System;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Spiking.Tensors;

namespace Spiking.Autograd;

/// <summary>
/// What Select, Narrow and Unbind share: their argument checks (negative axes and indices count from the end, as in
/// PyTorch), taking a slice along an axis (a view when every axis before it has size 1, so a time step of
/// <c>[T, …]</c> costs nothing; a copy otherwise, kept as bits for spikes), and adding a slice's gradient into its
/// place in the input's running gradient, which touches that slice only.
/// </summary>
internal static class AxisSlice
{
    /// <summary><paramref name="axis"/> of <paramref name="x"/> in <c>[0, rank)</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> is a scalar.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="axis"/> is outside <c>[-rank, rank)</c>.</exception>
    public static int Axis(Variable x, int axis, string op)
    {
        ArgumentNullException.ThrowIfNull(x);
        int rank = x.Shape.Rank;
        if (rank == 0) throw new ArgumentException($"{op} needs 'x' with at least one axis; it is a scalar (shape []).", nameof(x));
        int a = axis < 0 ? axis + rank : axis;
        if ((uint)a >= (uint)rank)
        {
            throw new ArgumentOutOfRangeException(nameof(axis), axis,
                $"{op}: axis {axis} is outside [-{rank}, {rank - 1}] for 'x' of shape {x.Shape}.");
        }
        return a;
    }

    /// <summary>Index <paramref name="index"/> along axis <paramref name="axis"/> of <paramref name="x"/>, in <c>[0, size)</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside <c>[-size, size)</c>.</exception>
    public static int Index(Variable x, int axis, int index, string paramName, string op)
    {
        int size = x.Shape[axis];
        int i = index < 0 ? index + size : index;
        if ((uint)i >= (uint)size)
        {
            throw new ArgumentOutOfRangeException(paramName, index,
                $"{op}: index {index} is outside [-{size}, {size - 1}] along axis {axis} of 'x' (shape {x.Shape}, size {size}).");
        }
        return i;
    }

    /// <summary>A spike variable of rank 1 has nothing to select into: a spike tensor cannot be a scalar.</summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> holds spikes of rank 1.</exception>
    public static void ThrowIfScalarSpikes(Variable x, string op)
    {
        if (x.IsSpikes && x.Shape.Rank == 1)
        {
            throw new ArgumentException(
                $"{op} of spikes of shape {x.Shape} would give scalars, which a spike tensor cannot hold (its last axis is the packed one). " +
                "Narrow(x, 0, index, 1) keeps one element as bits of shape [1]; Functional.SpikesToDense converts to floats first.",
                nameof(x));
        }
    }

    /// <summary>The shape of <paramref name="shape"/> without axis <paramref name="axis"/>.</summary>
    public static Shape Without(Shape shape, int axis)
    {
        var dims = new int[shape.Rank - 1];
        for (int d = 0, k = 0; d < shape.Rank; d++)
        {
            if (d != axis) dims[k++] = shape[d];
        }
        return new Shape(dims);
    }

    /// <summary>Elements <c>[start, start + length)</c> along <paramref name="axis"/> of <paramref name="x"/>, viewed as <paramref name="shape"/>.</summary>
    public static Tensor Take(Tensor x, int axis, int start, int length, Shape shape)
    {
        var s = x.Shape;
        if (s.ProductOfLeading(axis) == 1)
        {
            using var steps = x.Reshape(s[axis], s.ProductOfTrailing(axis + 1));
            using var part = steps.Slice(start, length);
            return part.Reshape(shape);
        }
        var copy = x.Narrow(axis, start, length);
        if (copy.Shape == shape) return copy;
        using (copy) return copy.Reshape(shape);
    }

    /// <summary>
    /// Elements <c>[start, start + length)</c> along <paramref name="axis"/> of <paramref name="x"/> as bits of shape
    /// <paramref name="shape"/>: that shape with the axis kept, or, when <paramref name="drop"/>, without it (then
    /// <paramref name="length"/> is 1).
    /// </summary>
    public static SpikeTensor Take(SpikeTensor x, int axis, int start, int length, bool drop, Shape shape)
    {
        var s = x.Shape;
        int last = s.Rank - 1;
        if (axis < last && s.ProductOfLeading(axis) == 1)
        {
            int rows = 1;
            for (int d = axis + 1; d < last; d++) rows *= s[d];
            using var steps = x.Reshape(s[axis], rows, s[last]);
            using var part = steps.Slice(start, length);
            return part.Reshape(shape.Dimensions.ToArray());
        }
        return drop ? x.Select(axis, start) : x.Narrow(axis, start, length);
    }

    /// <summary>
    /// Adds <paramref name="slice"/> (the <paramref name="length"/> elements from <paramref name="start"/> along
    /// <paramref name="axis"/>, with that axis or without it) into its place in <paramref name="gradient"/>.
    /// </summary>
    public static void AddInto(Tensor gradient, int axis, int start, int length, Tensor slice)
    {
        if (slice.Length == 0) return;
        var s = gradient.Shape;
        int outer = s.ProductOfLeading(axis), inner = s.ProductOfTrailing(axis + 1);
        if (outer == 1)
        {
            using var steps = gradient.Reshape(s[axis], inner);
            using var part = steps.Slice(start, length);
            using var values = slice.Reshape(part.Shape);
            part.AddInPlace(values);
            return;
        }
        int stride = s[axis] * inner, block = length * inner, skip = start * inner;
        var dst = gradient.AsSpan();
        var src = slice.AsReadOnlySpan();
        for (int o = 0; o < outer; o++)
        {
            var into = dst.Slice(o * stride + skip, block);
            TensorPrimitives.Add(into, src.Slice(o * block, block), into);
        }
    }
}
