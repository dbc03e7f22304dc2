using System;
using System.Collections.Generic;

namespace Spiking.Tensors;

public sealed partial class Tensor
{
    /// <summary>
    /// Joins <paramref name="tensors"/> along an existing <paramref name="axis"/> (negative counts from the end):
    /// every tensor must have the same rank and the same dimensions on every other axis.
    /// </summary>
    /// <exception cref="ArgumentException">The list is empty, holds a scalar or a disposed tensor, or two shapes differ off the axis.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="axis"/> is outside the shape.</exception>
    public static Tensor Concat(IReadOnlyList<Tensor> tensors, int axis)
    {
        CheckList(tensors, "Concat");
        var first = tensors[0].Shape;
        if (first.Rank == 0)
        {
            throw new ArgumentException("Concat needs tensors with at least one axis; tensors[0] is a scalar (Stack joins scalars).", nameof(tensors));
        }
        int a = first.NormalizeAxis(axis);
        long total = 0;
        for (int i = 0; i < tensors.Count; i++)
        {
            var s = tensors[i].Shape;
            bool match = s.Rank == first.Rank;
            for (int d = 0; match && d < s.Rank; d++) match = d == a || s[d] == first[d];
            if (!match)
            {
                throw new ArgumentException(
                    $"Concat along axis {axis}: tensors[{i}] has shape {s} but tensors[0] has {first}; they must match on every axis but {a}.", nameof(tensors));
            }
            total += s[a];
        }
        if (total > int.MaxValue) throw new ArgumentException($"Concat along axis {axis} would make that axis {total} long.", nameof(tensors));
        var result = Empty(first.WithDimension(a, (int)total));
        int outer = first.ProductOfLeading(a), inner = first.ProductOfTrailing(a + 1);
        int row = (int)total * inner;
        var dst = result.AsSpan();
        int offset = 0;
        for (int i = 0; i < tensors.Count; i++)
        {
            var src = tensors[i].AsReadOnlySpan();
            int block = tensors[i].Shape[a] * inner;
            for (int o = 0; o < outer; o++) src.Slice(o * block, block).CopyTo(dst.Slice(o * row + offset, block));
            offset += block;
        }
        return result;
    }

    /// <summary>
    /// Joins <paramref name="tensors"/>, which must all have the same shape, along a new axis inserted at
    /// <paramref name="axis"/> (in <c>[-(rank+1), rank]</c>; -1 puts it last).
    /// </summary>
    /// <exception cref="ArgumentException">The list is empty, holds a disposed tensor, or two shapes differ.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="axis"/> is outside <c>[-(rank+1), rank]</c>.</exception>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int axis = 0)
    {
        CheckList(tensors, "Stack");
        var shape = tensors[0].Shape;
        int a = StackAxis(shape, axis);
        for (int i = 1; i < tensors.Count; i++)
        {
            if (tensors[i].Shape != shape)
            {
                throw new ArgumentException($"Stack: tensors[{i}] has shape {tensors[i].Shape} but tensors[0] has {shape}; all must have the same shape.", nameof(tensors));
            }
        }
        var dims = new int[shape.Rank + 1];
        for (int d = 0, s = 0; d < dims.Length; d++) dims[d] = d == a ? tensors.Count : shape[s++];
        var result = Empty(new Shape(dims));
        int outer = shape.ProductOfLeading(a), inner = shape.ProductOfTrailing(a);
        int count = tensors.Count;
        var dst = result.AsSpan();
        for (int i = 0; i < count; i++)
        {
            var src = tensors[i].AsReadOnlySpan();
            for (int o = 0; o < outer; o++) src.Slice(o * inner, inner).CopyTo(dst.Slice((o * count + i) * inner, inner));
        }
        return result;
    }

    /// <summary>
    /// A copy of elements <c>[start, start + length)</c> along <paramref name="axis"/> (negative counts from the end),
    /// all of every other axis: the inverse of <see cref="Concat"/>. Unlike <see cref="Slice"/>, which is a view of
    /// the leading axis, it works on any axis and copies.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The axis is outside the shape or the range leaves it.</exception>
    public Tensor Narrow(int axis, int start, int length)
    {
        ThrowIfDisposed();
        if (Rank == 0) throw new ArgumentOutOfRangeException(nameof(axis), axis, "A scalar tensor has no axis to narrow.");
        int a = Shape.NormalizeAxis(axis);
        int size = Shape[a];
        if (start < 0 || length < 0 || length > size - start)
        {
            throw new ArgumentOutOfRangeException(nameof(start),
                $"Range [{start}, {(long)start + length}) is outside axis {axis} of shape {Shape} (size {size}).");
        }
        var result = Empty(Shape.WithDimension(a, length));
        int outer = Shape.ProductOfLeading(a), inner = Shape.ProductOfTrailing(a + 1);
        int row = size * inner, block = length * inner;
        var src = AsReadOnlySpan();
        var dst = result.AsSpan();
        for (int o = 0; o < outer; o++) src.Slice(o * row + start * inner, block).CopyTo(dst.Slice(o * block, block));
        return result;
    }

    /// <summary>The position of a new axis <paramref name="axis"/> in a shape one rank above <paramref name="shape"/>.</summary>
    internal static int StackAxis(Shape shape, int axis)
    {
        int rank = shape.Rank + 1;
        int a = axis < 0 ? axis + rank : axis;
        if ((uint)a >= (uint)rank)
        {
            throw new ArgumentOutOfRangeException(nameof(axis), axis,
                $"Stack axis {axis} is outside [-{rank}, {rank - 1}] for tensors of shape {shape}.");
        }
        return a;
    }

    private static void CheckList(IReadOnlyList<Tensor> tensors, string op)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Count == 0) throw new ArgumentException($"{op} needs at least one tensor.", nameof(tensors));
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            if (t is null) throw new ArgumentNullException(nameof(tensors), $"{op}: tensors[{i}] is null.");
            if (t.IsDisposed) throw new ArgumentException($"{op}: tensors[{i}] (shape {t.Shape}) has been disposed.", nameof(tensors));
        }
    }
}
