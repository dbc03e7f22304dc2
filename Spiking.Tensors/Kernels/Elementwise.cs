using System;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Spiking.Tensors.Kernels;

/// <summary>A binary elementwise operation over spans, in the style of <see cref="TensorPrimitives"/>' operator structs.</summary>
internal interface IBinaryOp
{
    static abstract void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> destination);
    static abstract void Apply(ReadOnlySpan<float> x, float y, Span<float> destination);
    static abstract void Apply(float x, ReadOnlySpan<float> y, Span<float> destination);
    static abstract string Name { get; }
}

internal readonly struct AddOp : IBinaryOp
{
    public static string Name => "add";
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Add(x, y, d);
    public static void Apply(ReadOnlySpan<float> x, float y, Span<float> d) => TensorPrimitives.Add(x, y, d);
    public static void Apply(float x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Add(y, x, d);
}

internal readonly struct SubtractOp : IBinaryOp
{
    public static string Name => "subtract";
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Subtract(x, y, d);
    public static void Apply(ReadOnlySpan<float> x, float y, Span<float> d) => TensorPrimitives.Subtract(x, y, d);
    public static void Apply(float x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Subtract(x, y, d);
}

internal readonly struct MultiplyOp : IBinaryOp
{
    public static string Name => "multiply";
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Multiply(x, y, d);
    public static void Apply(ReadOnlySpan<float> x, float y, Span<float> d) => TensorPrimitives.Multiply(x, y, d);
    public static void Apply(float x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Multiply(y, x, d);
}

internal readonly struct DivideOp : IBinaryOp
{
    public static string Name => "divide";
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Divide(x, y, d);
    public static void Apply(ReadOnlySpan<float> x, float y, Span<float> d) => TensorPrimitives.Divide(x, y, d);
    public static void Apply(float x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Divide(x, y, d);
}

internal readonly struct MaxOp : IBinaryOp
{
    public static string Name => "maximum";
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Max(x, y, d);
    public static void Apply(ReadOnlySpan<float> x, float y, Span<float> d) => TensorPrimitives.Max(x, y, d);
    public static void Apply(float x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Max(y, x, d);
}

internal readonly struct MinOp : IBinaryOp
{
    public static string Name => "minimum";
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Min(x, y, d);
    public static void Apply(ReadOnlySpan<float> x, float y, Span<float> d) => TensorPrimitives.Min(x, y, d);
    public static void Apply(float x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Min(y, x, d);
}

/// <summary>
/// NumPy-style broadcasting of binary elementwise operations. Shapes are aligned on their last axis; a
/// dimension broadcasts when it is 1 (or missing). The work runs as contiguous inner runs handed to
/// <see cref="TensorPrimitives"/>, so bias-like shapes (<c>[N]</c> onto <c>[B, N]</c>, <c>[C, 1, 1]</c> onto
/// <c>[B, C, H, W]</c>) cost one vectorised call per run.
/// </summary>
internal static class Elementwise
{
    public static Shape BroadcastShape(Shape a, Shape b, string opName)
    {
        int rank = Math.Max(a.Rank, b.Rank);
        var dims = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Rank ? 1 : a[i - (rank - a.Rank)];
            int db = i < rank - b.Rank ? 1 : b[i - (rank - b.Rank)];
            if (da != db && da != 1 && db != 1)
            {
                throw new ArgumentException(
                    $"Cannot {opName} shapes {a} and {b}: dimension {i} of the aligned shapes is {da} vs {db}; each pair must match or one must be 1.", nameof(b));
            }
            dims[i] = da == 1 ? db : da;
        }
        return new Shape(dims);
    }

    public static void Binary<TOp>(ReadOnlySpan<float> x, Shape xs, ReadOnlySpan<float> y, Shape ys, Span<float> d, Shape ds)
        where TOp : IBinaryOp
    {
        if (xs == ds && ys == ds)
        {
            TOp.Apply(x, y, d);
            return;
        }
        if (ys.ElementCount == 1 && xs == ds)
        {
            TOp.Apply(x, y[0], d);
            return;
        }
        if (xs.ElementCount == 1 && ys == ds)
        {
            TOp.Apply(x[0], y, d);
            return;
        }
        int rank = ds.Rank;
        Span<int> xStride = stackalloc int[rank];
        Span<int> yStride = stackalloc int[rank];
        Strides(xs, ds, xStride);
        Strides(ys, ds, yStride);
        int inner = ds[rank - 1];
        bool xRun = xStride[rank - 1] != 0 || inner == 1, yRun = yStride[rank - 1] != 0 || inner == 1;
        int outer = ds.ElementCount / Math.Max(1, inner);
        Span<int> index = stackalloc int[rank];
        for (int o = 0; o < outer; o++)
        {
            int xo = 0, yo = 0;
            for (int a = 0; a < rank - 1; a++)
            {
                xo += index[a] * xStride[a];
                yo += index[a] * yStride[a];
            }
            var dst = d.Slice(o * inner, inner);
            if (xRun && yRun) TOp.Apply(x.Slice(xo, inner), y.Slice(yo, inner), dst);
            else if (xRun) TOp.Apply(x.Slice(xo, inner), y[yo], dst);
            else if (yRun) TOp.Apply(x[xo], y.Slice(yo, inner), dst);
            else
            {
                dst.Fill(x[xo]);
                TOp.Apply(dst, y[yo], dst);
            }
            for (int a = rank - 2; a >= 0; a--)
            {
                if (++index[a] < ds[a]) break;
                index[a] = 0;
            }
        }
    }

    /// <summary>Row-major strides of <paramref name="s"/> aligned to <paramref name="target"/>, 0 on broadcast axes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Strides(Shape s, Shape target, Span<int> strides)
    {
        int offset = target.Rank - s.Rank;
        int stride = 1;
        for (int i = target.Rank - 1; i >= 0; i--)
        {
            int dim = i < offset ? 1 : s[i - offset];
            strides[i] = dim == 1 ? 0 : stride;
            stride *= dim;
        }
    }

    /// <summary>
    /// Sums <paramref name="source"/> (shape <paramref name="from"/>) down to shape <paramref name="to"/>, which must
    /// broadcast to it: the reduction that undoes a broadcast, as a gradient needs.
    /// </summary>
    public static void SumToShape(ReadOnlySpan<float> source, Shape from, Span<float> destination, Shape to)
    {
        destination.Clear();
        int rank = from.Rank;
        Span<int> stride = stackalloc int[rank];
        Strides(to, from, stride);
        int inner = rank == 0 ? 1 : from[rank - 1];
        bool run = rank == 0 || stride[rank - 1] != 0 || inner == 1;
        int outer = from.ElementCount / Math.Max(1, inner);
        Span<int> index = stackalloc int[Math.Max(1, rank)];
        for (int o = 0; o < outer; o++)
        {
            int at = 0;
            for (int a = 0; a < rank - 1; a++) at += index[a] * stride[a];
            var src = source.Slice(o * inner, inner);
            if (run) TensorPrimitives.Add(destination.Slice(at, inner), src, destination.Slice(at, inner));
            else destination[at] += TensorPrimitives.Sum(src);
            for (int a = rank - 2; a >= 0; a--)
            {
                if (++index[a] < from[a]) break;
                index[a] = 0;
            }
        }
    }
}
