using System;
using System.Numerics.Tensors;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// Reductions along one axis, viewing the tensor as <c>[outer, axis, inner]</c>. With <c>inner == 1</c> each
/// output is one vectorised reduction of a contiguous run; otherwise whole inner rows are combined with
/// vectorised elementwise operations, in ascending axis order.
/// </summary>
internal static class Reduce
{
    public enum Kind { Sum, Max, Min }

    public static void Axis(ReadOnlySpan<float> source, int outer, int axis, int inner, Span<float> destination, Kind kind)
    {
        for (int o = 0; o < outer; o++)
        {
            var block = source.Slice(o * axis * inner, axis * inner);
            if (inner == 1)
            {
                destination[o] = kind switch
                {
                    Kind.Sum => TensorPrimitives.Sum(block),
                    Kind.Max => TensorPrimitives.Max(block),
                    _ => TensorPrimitives.Min(block),
                };
                continue;
            }
            var dst = destination.Slice(o * inner, inner);
            block[..inner].CopyTo(dst);
            for (int a = 1; a < axis; a++)
            {
                var row = block.Slice(a * inner, inner);
                switch (kind)
                {
                    case Kind.Sum: TensorPrimitives.Add(dst, row, dst); break;
                    case Kind.Max: TensorPrimitives.Max(dst, row, dst); break;
                    default: TensorPrimitives.Min(dst, row, dst); break;
                }
            }
        }
    }

    private const int Block = 1024;

    /// <summary>
    /// The sum of all elements, accurate whatever the vector width: vectorised float sums over blocks of 1024,
    /// accumulated in double. A single float accumulator per lane loses about <c>n/lanes · ε</c> over a long
    /// span (1.6e-5 relative for 730k squares on 128-bit vectors), more than float32 results should.
    /// </summary>
    public static float Sum(ReadOnlySpan<float> source)
    {
        double total = 0;
        for (int i = 0; i < source.Length; i += Block) total += TensorPrimitives.Sum(source.Slice(i, Math.Min(Block, source.Length - i)));
        return (float)total;
    }

    /// <summary>The sum of squares of all elements, blocked and accumulated like <see cref="Sum"/>.</summary>
    public static float SumOfSquares(ReadOnlySpan<float> source)
    {
        double total = 0;
        for (int i = 0; i < source.Length; i += Block) total += TensorPrimitives.SumOfSquares(source.Slice(i, Math.Min(Block, source.Length - i)));
        return (float)total;
    }

    /// <summary>The index of the largest element of each row of length <paramref name="rowLength"/> (first on ties).</summary>
    public static void ArgMaxRows(ReadOnlySpan<float> source, int rowLength, Span<int> destination)
    {
        for (int r = 0; r < destination.Length; r++) destination[r] = TensorPrimitives.IndexOfMax(source.Slice(r * rowLength, rowLength));
    }
}
