using System;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// The matrix product <c>op(a)·op(b)</c>, op transposing when asked, through the packed SGEMM. <paramref name="a"/>
    /// is <c>[M, K]</c> (stored <c>[K, M]</c> when <paramref name="transposeA"/>), or <c>[..., M, K]</c> whose leading
    /// axes fold into M (a batch of rows against one matrix; no transpose then); <paramref name="b"/> is
    /// <c>[K, N]</c> (stored <c>[N, K]</c> when <paramref name="transposeB"/>). The result is <c>[..., M, N]</c>.
    /// The backward uses the same kernel's transpose flags: <c>dA = G·op(B)ᵀ</c>, <c>dB = op(A)ᵀ·G</c>, no transposed copies.
    /// </summary>
    /// <exception cref="ArgumentException">A rank is wrong, the inner dimensions differ (both shapes are named), an operand holds spikes (use <see cref="Linear"/>), or a batched <paramref name="a"/> is to be transposed.</exception>
    public static Variable MatMul(Variable a, Variable b, bool transposeA = false, bool transposeB = false) =>
        MatMulNode.Forward(a, b, transposeA, transposeB);
}

/// <summary>
/// A matrix product. Saves <c>b</c> when <c>a</c> needs a gradient and <c>a</c> when <c>b</c> does (as views),
/// and the transpose flags and dimensions.
/// </summary>
internal sealed class MatMulNode : Node
{
    private readonly bool _ta, _tb;
    private readonly int _m, _n, _k;
    private SavedTensor? _a, _b;

    private MatMulNode(Variable a, Variable b, Tensor av, Tensor bv, bool ta, bool tb, int m, int n, int k) : base(a, b)
    {
        (_ta, _tb, _m, _n, _k) = (ta, tb, m, n, k);
        if (b.RequiresGrad) _a = new SavedTensor(av, "matmul's input 'a'");
        if (a.RequiresGrad) _b = new SavedTensor(bv, "matmul's input 'b'");
    }

    public override string Name => "matmul";

    public static Variable Forward(Variable a, Variable b, bool transposeA, bool transposeB)
    {
        var av = OpChecks.Dense(a, nameof(a), "MatMul");
        var bv = OpChecks.Dense(b, nameof(b), "MatMul");
        if (av.Rank < 2)
        {
            throw new ArgumentException($"MatMul needs 'a' of rank 2 or more ([M, K] or [..., M, K]); it has shape {av.Shape}.", nameof(a));
        }
        if (av.Rank > 2 && transposeA)
        {
            throw new ArgumentException($"MatMul folds the leading axes of 'a' (shape {av.Shape}) into rows, which needs transposeA false; transpose a rank-2 'a' instead.", nameof(transposeA));
        }
        if (bv.Rank != 2)
        {
            throw new ArgumentException($"MatMul needs 'b' of rank 2 ([K, N]); it has shape {bv.Shape}.", nameof(b));
        }
        int m = transposeA ? av.Shape[1] : av.Shape.RowCount;
        int k = transposeA ? av.Shape[0] : av.Shape[-1];
        int kb = transposeB ? bv.Shape[1] : bv.Shape[0];
        int n = transposeB ? bv.Shape[0] : bv.Shape[1];
        if (k != kb)
        {
            throw new ArgumentException(
                $"MatMul: 'a' of shape {av.Shape}{(transposeA ? " (transposed)" : "")} has inner dimension {k} but 'b' of shape {bv.Shape}{(transposeB ? " (transposed)" : "")} has {kb}.",
                nameof(b));
        }
        var dims = av.Shape.Dimensions.ToArray();
        if (transposeA) dims[0] = m;
        dims[^1] = n;
        var y = Tensor.Empty(new Shape(dims));
        Gemm.Multiply(av.AsReadOnlySpan(), transposeA, bv.AsReadOnlySpan(), transposeB, y.AsSpan(), m, n, k);
        return Variable.FromOp(y, Record(() => new MatMulNode(a, b, av, bv, transposeA, transposeB, m, n, k), a, b));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        var g = gradOutput.AsReadOnlySpan();
        Tensor? da = null, db = null;
        if (NeedsGrad(0))
        {
            var b = _b!.Value;
            da = Tensor.Empty(Inputs[0].Shape);
            if (!_ta)
            {
                // dA[M,K] = G[M,N]·op(B)ᵀ; op(B)ᵀ is B stored [N,K] when transposed, else Bᵀ of B[K,N].
                Gemm.Multiply(g, false, b.AsReadOnlySpan(), !_tb, da.AsSpan(), _m, _k, _n);
            }
            else
            {
                // A is stored [K,M]: dA = (G·op(B)ᵀ)ᵀ = op(B)·Gᵀ.
                Gemm.Multiply(b.AsReadOnlySpan(), _tb, g, true, da.AsSpan(), _k, _m, _n);
            }
        }
        if (NeedsGrad(1))
        {
            var a = _a!.Value;
            db = Tensor.Empty(Inputs[1].Shape);
            if (!_tb)
            {
                // dB[K,N] = op(A)ᵀ·G; op(A)ᵀ is A stored [K,M] when transposed, else Aᵀ of A[M,K].
                Gemm.Multiply(a.AsReadOnlySpan(), !_ta, g, false, db.AsSpan(), _k, _n, _m);
            }
            else
            {
                // B is stored [N,K]: dB = (op(A)ᵀ·G)ᵀ = Gᵀ·op(A).
                Gemm.Multiply(g, true, a.AsReadOnlySpan(), _ta, db.AsSpan(), _n, _k, _m);
            }
        }
        return [da, db];
    }

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
        saved.Add("a", _a);
        saved.Add("b", _b);
    }

    protected internal override void ReleaseSaved()
    {
        _a?.Release();
        _b?.Release();
        _a = _b = null;
    }
}
