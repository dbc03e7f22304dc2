using System;
using Spiking.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Spiking.Autograd;

/// <summary>
/// Softmax and log-softmax along one axis, and their backward, on tensors viewed as <c>[outer, n, inner]</c> with
/// the axis in the middle. Every row subtracts its maximum first, so large logits (1e4) neither overflow nor lose
/// the differences between them. A contiguous last axis (<c>inner = 1</c>) runs row by row; another axis runs the
/// same steps across <c>inner</c>-long vectors.
/// </summary>
internal static class SoftmaxKernel
{
    /// <summary>A new tensor holding the softmax (or, when <paramref name="log"/>, the log-softmax) of <paramref name="x"/> along <paramref name="axis"/>.</summary>
    public static Tensor Forward(Tensor x, int axis, bool log)
    {
        var (outer, n, inner) = Split(x.Shape, axis);
        var y = Tensor.Empty(x.Shape);
        if (y.Length == 0) return y;
        var src = x.AsReadOnlySpan();
        var dst = y.AsSpan();
        if (inner == 1)
        {
            for (int r = 0; r < outer; r++) Row(src.Slice(r * n, n), dst.Slice(r * n, n), log);
            return y;
        }
        using var maxT = Tensor.Empty(inner);
        using var sumT = Tensor.Empty(inner);
        var m = maxT.AsSpan();
        var s = sumT.AsSpan();
        int block = n * inner;
        for (int o = 0; o < outer; o++)
        {
            var xb = src.Slice(o * block, block);
            var yb = dst.Slice(o * block, block);
            xb[..inner].CopyTo(m);
            for (int j = 1; j < n; j++) TensorPrimitives.Max(m, xb.Slice(j * inner, inner), m);
            s.Clear();
            for (int j = 0; j < n; j++)
            {
                var yr = yb.Slice(j * inner, inner);
                TensorPrimitives.Subtract(xb.Slice(j * inner, inner), m, yr);
                TensorPrimitives.Exp(yr, yr);
                TensorPrimitives.Add(s, yr, s);
            }
            if (log)
            {
                TensorPrimitives.Log(s, s);
                for (int j = 0; j < n; j++)
                {
                    var yr = yb.Slice(j * inner, inner);
                    TensorPrimitives.Subtract(xb.Slice(j * inner, inner), m, yr);
                    TensorPrimitives.Subtract(yr, s, yr);
                }
            }
            else
            {
                for (int j = 0; j < n; j++)
                {
                    var yr = yb.Slice(j * inner, inner);
                    TensorPrimitives.Divide(yr, s, yr);
                }
            }
        }
        return y;
    }

    /// <summary>Softmax or log-softmax of one contiguous row.</summary>
    public static void Row(ReadOnlySpan<float> x, Span<float> y, bool log)
    {
        float max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, y);
        TensorPrimitives.Exp(y, y);
        float sum = TensorPrimitives.Sum(y);
        if (log)
        {
            TensorPrimitives.Subtract(x, max, y);
            TensorPrimitives.Subtract(y, MathF.Log(sum), y);
        }
        else
        {
            TensorPrimitives.Divide(y, sum, y);
        }
    }

    /// <summary>
    /// The input gradient from the output gradient <paramref name="g"/> and the saved output <paramref name="y"/>:
    /// <c>y·(G - Σ G·y)</c> for softmax, <c>G - e^y·Σ G</c> for log-softmax, the sums along the axis.
    /// </summary>
    public static Tensor Backward(Tensor g, Tensor y, int axis, bool log)
    {
        var (outer, n, inner) = Split(y.Shape, axis);
        var dx = Tensor.Empty(y.Shape);
        if (dx.Length == 0) return dx;
        var gs = g.AsReadOnlySpan();
        var ys = y.AsReadOnlySpan();
        var d = dx.AsSpan();
        if (inner == 1)
        {
            for (int r = 0; r < outer; r++)
            {
                var gr = gs.Slice(r * n, n);
                var yr = ys.Slice(r * n, n);
                var dr = d.Slice(r * n, n);
                if (log)
                {
                    TensorPrimitives.Exp(yr, dr);
                    TensorPrimitives.MultiplyAdd(dr, -TensorPrimitives.Sum(gr), gr, dr);
                }
                else
                {
                    TensorPrimitives.Subtract(gr, TensorPrimitives.Dot(gr, yr), dr);
                    TensorPrimitives.Multiply(dr, yr, dr);
                }
            }
            return dx;
        }
        using var sumT = Tensor.Empty(inner);
        var s = sumT.AsSpan();
        int block = n * inner;
        for (int o = 0; o < outer; o++)
        {
            var gb = gs.Slice(o * block, block);
            var yb = ys.Slice(o * block, block);
            var db = d.Slice(o * block, block);
            s.Clear();
            for (int j = 0; j < n; j++)
            {
                var gr = gb.Slice(j * inner, inner);
                if (log) TensorPrimitives.Add(s, gr, s);
                else TensorPrimitives.MultiplyAdd(gr, yb.Slice(j * inner, inner), s, s);
            }
            for (int j = 0; j < n; j++)
            {
                var gr = gb.Slice(j * inner, inner);
                var yr = yb.Slice(j * inner, inner);
                var dr = db.Slice(j * inner, inner);
                if (log)
                {
                    // G - e^y·s
                    TensorPrimitives.Exp(yr, dr);
                    TensorPrimitives.Multiply(dr, s, dr);
                    TensorPrimitives.Subtract(gr, dr, dr);
                }
                else
                {
                    TensorPrimitives.Subtract(gr, s, dr);
                    TensorPrimitives.Multiply(dr, yr, dr);
                }
            }
        }
        return dx;
    }

    private static (int Outer, int N, int Inner) Split(Shape shape, int axis)
    {
        int a = shape.NormalizeAxis(axis);
        return (shape.ProductOfLeading(a), shape[a], shape.ProductOfTrailing(a + 1));
    }
}
