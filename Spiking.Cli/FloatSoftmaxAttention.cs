using System;
using System.Buffers;
using System.Threading.Tasks;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Spiking.Cli;

/// <summary>
/// The float baseline of <c>spiking bench attention</c>: standard softmax attention,
/// <c>Y = softmax(Q·Kᵀ·s)·V</c> per (sample, head) on dense <c>[N, H, L, D]</c> operands, with the SGEMM. The engine's
/// <c>Functional.MatMul</c> takes a rank-2 right operand only, so the per-head products are direct
/// <see cref="Gemm"/> calls, one head per work item as the spiking attention ops run. The forward keeps what an
/// autograd graph of matmul → softmax → matmul keeps for its backward: Q and K (for the first product), the
/// probabilities P (the softmax's output, also the second product's left operand) and V.
/// </summary>
internal sealed class FloatSoftmaxAttention : IDisposable
{
    private readonly Tensor _q, _k, _v, _p;
    private readonly int _heads, _l, _d;
    private readonly float _scale;

    private FloatSoftmaxAttention(Tensor q, Tensor k, Tensor v, Tensor p, float scale)
    {
        (_q, _k, _v, _p, _scale) = (q, k, v, p, scale);
        _heads = q.Shape[0] * q.Shape[1];
        _l = q.Shape[2];
        _d = q.Shape[3];
    }

    /// <summary>Bytes this forward holds for the backward: Q, K, V (<c>[N, H, L, D]</c>) and P (<c>[N, H, L, L]</c>) as floats.</summary>
    public static long SavedBytes(int heads, int l, int d) => sizeof(float) * ((long)heads * l * d * 3 + (long)heads * l * l);

    /// <summary>Runs the forward, returning the output and the state its backward needs.</summary>
    public static (Tensor Output, FloatSoftmaxAttention Saved) Forward(Tensor q, Tensor k, Tensor v, float scale)
    {
        var shape = q.Shape;
        if (shape.Rank != 4 || k.Shape != shape || v.Shape != shape)
        {
            throw new ArgumentException($"Float attention needs q, k and v of one shape [N, H, L, D]; got q {q.Shape}, k {k.Shape}, v {v.Shape}.", nameof(q));
        }
        int heads = shape[0] * shape[1], l = shape[2], d = shape[3];
        var p = Tensor.Empty(shape[0], shape[1], l, l);
        var y = Tensor.Empty(shape);
        var saved = new FloatSoftmaxAttention(q.Reshape(shape), k.Reshape(shape), v.Reshape(shape), p, scale);
        PerHead(heads, item => saved.ForwardHead(item, y));
        return (y, saved);
    }

    /// <summary>The gradients of Q, K and V from the output gradient <paramref name="g"/>.</summary>
    public (Tensor DQ, Tensor DK, Tensor DV) Backward(Tensor g)
    {
        var shape = _q.Shape;
        var dq = Tensor.Empty(shape);
        var dk = Tensor.Empty(shape);
        var dv = Tensor.Empty(shape);
        PerHead(_heads, item => BackwardHead(item, g, dq, dk, dv));
        return (dq, dk, dv);
    }

    public void Dispose()
    {
        _q.Dispose();
        _k.Dispose();
        _v.Dispose();
        _p.Dispose();
    }

    private static void PerHead(int heads, Action<int> body)
    {
        var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Math.Min(Parallelism.MaxThreads, heads)) };
        Parallel.For(0, heads, options, body);
    }

    private void ForwardHead(int item, Tensor y)
    {
        int ld = _l * _d, ll = _l * _l;
        var p = Head(_p, item, ll);
        Gemm.Multiply(Read(_q, item, ld), false, Read(_k, item, ld), true, p, _l, _l, _d);
        for (int i = 0; i < _l; i++)
        {
            var row = p.Slice(i * _l, _l);
            TensorPrimitives.Multiply(row, _scale, row);
            // Subtracting the row maximum keeps exp finite for any scores.
            TensorPrimitives.Subtract(row, TensorPrimitives.Max(row), row);
            TensorPrimitives.Exp(row, row);
            TensorPrimitives.Multiply(row, 1f / TensorPrimitives.Sum(row), row);
        }
        Gemm.Multiply(p, false, Read(_v, item, ld), false, Head(y, item, ld), _l, _d, _l);
    }

    /// <summary>
    /// <c>dV = Pᵀ·G</c>, <c>dP = G·Vᵀ</c>, <c>dS = P ⊙ (dP − rowsum(dP ⊙ P))</c>, <c>dQ = s·dS·K</c>, <c>dK = s·dSᵀ·Q</c>.
    /// </summary>
    private void BackwardHead(int item, Tensor g, Tensor dq, Tensor dk, Tensor dv)
    {
        int ld = _l * _d, ll = _l * _l;
        var p = Read(_p, item, ll);
        var gs = Read(g, item, ld);
        Gemm.Multiply(p, true, gs, false, Head(dv, item, ld), _l, _d, _l);
        float[] scratch = ArrayPool<float>.Shared.Rent(ll);
        try
        {
            var ds = scratch.AsSpan(0, ll);
            Gemm.Multiply(gs, false, Read(_v, item, ld), true, ds, _l, _l, _d);
            for (int i = 0; i < _l; i++)
            {
                var row = ds.Slice(i * _l, _l);
                var prow = p.Slice(i * _l, _l);
                float dot = TensorPrimitives.Dot(row, prow);
                TensorPrimitives.Subtract(row, dot, row);
                TensorPrimitives.Multiply(row, prow, row);
                TensorPrimitives.Multiply(row, _scale, row);
            }
            Gemm.Multiply(ds, false, Read(_k, item, ld), false, Head(dq, item, ld), _l, _d, _l);
            Gemm.Multiply(ds, true, Read(_q, item, ld), false, Head(dk, item, ld), _l, _d, _l);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    private static Span<float> Head(Tensor t, int item, int length) => t.AsSpan().Slice(item * length, length);

    private static ReadOnlySpan<float> Read(Tensor t, int item, int length) => t.AsReadOnlySpan().Slice(item * length, length);
}
