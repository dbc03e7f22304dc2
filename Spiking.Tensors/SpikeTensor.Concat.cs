using System;
using System.Collections.Generic;
using System.Numerics;
using Spiking.Tensors.Kernels;

namespace Spiking.Tensors;

public sealed partial class SpikeTensor
{
    /// <summary>
    /// Joins <paramref name="tensors"/> along an existing <paramref name="axis"/> (negative counts from the end):
    /// every tensor must have the same rank and the same dimensions on every other axis. Along a leading axis whole
    /// packed rows are copied; along the packed last axis each row's bits are shifted to their offset. Padding bits
    /// stay zero.
    /// </summary>
    /// <exception cref="ArgumentException">The list is empty, holds a disposed tensor, or two shapes differ off the axis.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="axis"/> is outside the shape.</exception>
    public static SpikeTensor Concat(IReadOnlyList<SpikeTensor> tensors, int axis)
    {
        CheckList(tensors, "Concat");
        var first = tensors[0].Shape;
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
        var result = Zeros(first.WithDimension(a, (int)total));
        var dst = result.Words;
        if (a < first.Rank - 1)
        {
            // Whole packed rows: for each outer index, the rows of every input one after another.
            int outer = first.ProductOfLeading(a), innerRows = RowsBetween(first, a + 1), wpr = result.WordsPerRow;
            int stride = (int)total * innerRows * wpr, offset = 0;
            for (int i = 0; i < tensors.Count; i++)
            {
                ReadOnlySpan<ulong> src = tensors[i].Words;
                int block = tensors[i].Shape[a] * innerRows * wpr;
                for (int o = 0; o < outer; o++) src.Slice(o * block, block).CopyTo(dst.Slice(o * stride + offset, block));
                offset += block;
            }
            return result;
        }
        // Along the packed axis: each input's words are deposited at its bit offset in every row. Their padding bits
        // are zero, so nothing lands past the row's last element.
        int rows = result.RowCount, dstWords = result.WordsPerRow, bitOffset = 0;
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            ReadOnlySpan<ulong> src = t.Words;
            int srcWords = t.WordsPerRow, length = t.RowLength;
            for (int r = 0; r < rows; r++)
            {
                var dstRow = dst.Slice(r * dstWords, dstWords);
                for (int w = 0; w < srcWords; w++)
                {
                    BitRange.Deposit(dstRow, bitOffset + (w << 6), src[r * srcWords + w], Math.Min(64, length - (w << 6)));
                }
            }
            bitOffset += length;
        }
        return result;
    }

    /// <summary>
    /// Joins <paramref name="tensors"/>, which must all have the same shape, along a new axis inserted at
    /// <paramref name="axis"/> (in <c>[-(rank+1), rank]</c>; -1 puts it last, where it becomes the packed axis and
    /// bit <c>i</c> of each new row comes from <c>tensors[i]</c>).
    /// </summary>
    /// <exception cref="ArgumentException">The list is empty, holds a disposed tensor, or two shapes differ.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="axis"/> is outside <c>[-(rank+1), rank]</c>.</exception>
    public static SpikeTensor Stack(IReadOnlyList<SpikeTensor> tensors, int axis = 0)
    {
        CheckList(tensors, "Stack");
        var shape = tensors[0].Shape;
        int a = Tensor.StackAxis(shape, axis);
        for (int i = 1; i < tensors.Count; i++)
        {
            if (tensors[i].Shape != shape)
            {
                throw new ArgumentException($"Stack: tensors[{i}] has shape {tensors[i].Shape} but tensors[0] has {shape}; all must have the same shape.", nameof(tensors));
            }
        }
        int count = tensors.Count;
        var dims = new int[shape.Rank + 1];
        for (int d = 0, s = 0; d < dims.Length; d++) dims[d] = d == a ? count : shape[s++];
        var result = Zeros(new Shape(dims));
        var dst = result.Words;
        if (a < shape.Rank)
        {
            // The new axis comes before the packed one: whole rows interleave.
            int outer = shape.ProductOfLeading(a), block = RowsBetween(shape, a) * tensors[0].WordsPerRow;
            for (int i = 0; i < count; i++)
            {
                ReadOnlySpan<ulong> src = tensors[i].Words;
                for (int o = 0; o < outer; o++) src.Slice(o * block, block).CopyTo(dst.Slice((o * count + i) * block, block));
            }
            return result;
        }
        // The new axis is the packed one: element e of input i is bit i of row e; only the set bits are visited.
        int length = shape.LastDimension, srcWords = tensors[0].WordsPerRow, dstWords = result.WordsPerRow;
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<ulong> src = tensors[i].Words;
            int word = i >> 6;
            ulong bit = 1UL << (i & 63);
            for (int r = 0; r < tensors[i].RowCount; r++)
            {
                for (int w = 0; w < srcWords; w++)
                {
                    for (ulong bits = src[r * srcWords + w]; bits != 0; bits &= bits - 1)
                    {
                        int e = r * length + (w << 6) + BitOperations.TrailingZeroCount(bits);
                        dst[e * dstWords + word] |= bit;
                    }
                }
            }
        }
        return result;
    }

    /// <summary>
    /// A copy of elements <c>[start, start + length)</c> along <paramref name="axis"/> (negative counts from the end),
    /// all of every other axis; the inverse of <see cref="Concat"/>. Along the packed axis the bits are shifted to
    /// the start of each row and the padding stays zero. Unlike <see cref="Slice"/>, a view of the leading axis, it
    /// works on any axis and copies.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The axis is outside the shape or the range leaves it.</exception>
    public SpikeTensor Narrow(int axis, int start, int length)
    {
        ThrowIfDisposed();
        int a = Shape.NormalizeAxis(axis);
        int size = Shape[a];
        if (start < 0 || length < 0 || length > size - start)
        {
            throw new ArgumentOutOfRangeException(nameof(start),
                $"Range [{start}, {(long)start + length}) is outside axis {axis} of shape {Shape} (size {size}).");
        }
        var result = Zeros(Shape.WithDimension(a, length));
        ReadOnlySpan<ulong> src = Words;
        var dst = result.Words;
        if (a < Shape.Rank - 1)
        {
            int outer = Shape.ProductOfLeading(a), innerRows = RowsBetween(Shape, a + 1);
            int stride = size * innerRows * WordsPerRow, block = length * innerRows * WordsPerRow, skip = start * innerRows * WordsPerRow;
            for (int o = 0; o < outer; o++) src.Slice(o * stride + skip, block).CopyTo(dst.Slice(o * block, block));
            return result;
        }
        int dstWords = result.WordsPerRow;
        for (int r = 0; r < RowCount; r++)
        {
            var row = src.Slice(r * WordsPerRow, WordsPerRow);
            for (int w = 0; w < dstWords; w++)
            {
                dst[r * dstWords + w] = BitRange.Extract(row, start + (w << 6), Math.Min(64, length - (w << 6)));
            }
        }
        return result;
    }

    /// <summary>
    /// A copy of index <paramref name="index"/> along <paramref name="axis"/> (negative counts from the end), with that
    /// axis removed. Removing the packed last axis gathers one bit of every row into rows along the axis before it,
    /// so it needs rank 2 or more (a spike tensor cannot be a scalar).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The axis is outside the shape or the index outside the axis.</exception>
    /// <exception cref="InvalidOperationException">The tensor has rank 1: the result would be a scalar.</exception>
    public SpikeTensor Select(int axis, int index)
    {
        ThrowIfDisposed();
        int a = Shape.NormalizeAxis(axis);
        if ((uint)index >= (uint)Shape[a])
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Index {index} is outside axis {axis} of shape {Shape} (size {Shape[a]}).");
        }
        if (Shape.Rank == 1)
        {
            throw new InvalidOperationException(
                $"Selecting from spikes of shape {Shape} leaves a scalar, which a spike tensor cannot hold; Narrow(0, {index}, 1) keeps it as one bit.");
        }
        var dims = new int[Shape.Rank - 1];
        for (int d = 0, k = 0; d < Shape.Rank; d++)
        {
            if (d != a) dims[k++] = Shape[d];
        }
        if (a < Shape.Rank - 1)
        {
            using var narrowed = Narrow(a, index, 1);
            return narrowed.Reshape(dims);
        }
        // The packed axis goes: bit `index` of each row becomes one bit of a row along the axis before it.
        var result = Zeros(new Shape(dims));
        ReadOnlySpan<ulong> src = Words;
        var dst = result.Words;
        int length = result.RowLength, dstWords = result.WordsPerRow, word = index >> 6, shift = index & 63;
        for (int q = 0; q < result.RowCount; q++)
        {
            for (int j = 0; j < length; j++)
            {
                dst[q * dstWords + (j >> 6)] |= (src[(q * length + j) * WordsPerRow + word] >> shift & 1) << (j & 63);
            }
        }
        return result;
    }

    /// <summary>The number of packed rows spanned by axes <c>[from, rank - 1)</c> of <paramref name="shape"/>.</summary>
    private static int RowsBetween(Shape shape, int from)
    {
        int rows = 1;
        for (int d = from; d < shape.Rank - 1; d++) rows *= shape[d];
        return rows;
    }

    private static void CheckList(IReadOnlyList<SpikeTensor> tensors, string op)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Count == 0) throw new ArgumentException($"{op} needs at least one spike tensor.", nameof(tensors));
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            if (t is null) throw new ArgumentNullException(nameof(tensors), $"{op}: tensors[{i}] is null.");
            if (t.IsDisposed) throw new ArgumentException($"{op}: tensors[{i}] (shape {t.Shape}) has been disposed.", nameof(tensors));
        }
    }
}
