using System;
using System.Buffers;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// The key-value product of Meta-SpikeFormer's SDSA-4 (Spike-driven Transformer V2, Yao et al., ICLR 2024):
    /// <c>M = Kᵀ·V</c> per (batch, head) for <paramref name="k"/> and <paramref name="v"/> of shape <c>[N, H, L, D]</c>,
    /// giving dense <c>[N, H, D, D]</c>. On spikes <c>M[i, j]</c> is the number of tokens where key channel i and value
    /// channel j both fired, counted by AND and population count of the channel-major bits (exact while L &lt; 2²⁴);
    /// dense operands take the SGEMM. The caller turns M into spikes (<c>SN(Kᵀ·V)</c>) and multiplies the queries
    /// by it with <see cref="SpikeQueryProduct"/>.
    /// </summary>
    /// <remarks>
    /// Backward, with output gradient G <c>[D, D]</c> per head: <c>dK = V·Gᵀ</c> and <c>dV = K·G</c>, dense, the
    /// gradients with respect to the spikes on the spike path.
    /// </remarks>
    /// <exception cref="ArgumentException">An operand is not <c>[N, H, L, D]</c>, the shapes differ, or one operand holds spikes and the other is dense.</exception>
    public static Variable SpikeKeyValueProduct(Variable k, Variable v) => SpikeKeyValueProductNode.Forward(k, v);
}

/// <summary>
/// <c>Kᵀ·V</c> per (batch, head). Saves the values when the keys need a gradient and the keys when the values do,
/// as bits on the spike path.
/// </summary>
internal sealed class SpikeKeyValueProductNode : Node
{
    private const string Op = "SpikeKeyValueProduct";
    private readonly HeadShape _shape;
    private readonly SavedOperand _k, _v;

    private SpikeKeyValueProductNode(Variable k, Variable v, HeadShape shape) : base(k, v)
    {
        _shape = shape;
        _k = v.RequiresGrad ? SavedOperand.Save(k, "spike key-value product's 'k'") : default;
        _v = k.RequiresGrad ? SavedOperand.Save(v, "spike key-value product's 'v'") : default;
    }

    public override string Name => "spike key-value product";

    public static Variable Forward(Variable k, Variable v)
    {
        var shape = HeadShape.Of(k, nameof(k), Op);
        HeadShape.Of(v, nameof(v), Op);
        HeadShape.Same(k, nameof(k), v, nameof(v), Op);
        HeadShape.SameKind(Op, (k, nameof(k)), (v, nameof(v)));
        int l = shape.Tokens, d = shape.Channels;
        var y = Tensor.Empty(new Shape(shape.Batch, shape.Heads, d, d));
        long work = (long)l * d * d;
        if (k.Spikes is { } ks)
        {
            Parallelism.For(shape.Count, work / 64 + 1, (ks, vs: v.Spikes!, y, shape), static (item, s) => SpikeHead(item, s.ks, s.vs, s.y, s.shape));
        }
        else
        {
            Parallelism.For(shape.Count, work, (kd: k.Tensor!, vd: v.Tensor!, y, shape), static (item, s) =>
            {
                int l = s.shape.Tokens, d = s.shape.Channels, size = l * d;
                Gemm.Multiply(s.kd.AsReadOnlySpan().Slice(item * size, size), true, s.vd.AsReadOnlySpan().Slice(item * size, size), false,
                    s.y.StorageArray.AsSpan(s.y.StorageOffset + item * d * d, d * d), d, d, l);
            });
        }
        return Variable.FromOp(y, Record(() => new SpikeKeyValueProductNode(k, v, shape), k, v));
    }

    /// <summary>One head on bits: token-major rows become channel-major rows, then <c>M[i, j]</c> is an AND-popcount.</summary>
    private static void SpikeHead(int item, SpikeTensor ks, SpikeTensor vs, Tensor y, HeadShape shape)
    {
        int l = shape.Tokens, d = shape.Channels, words = ks.WordsPerRow, tokenWords = SpikeTensor.WordsFor(l);
        var transposed = ArrayPool<ulong>.Shared.Rent(2 * d * tokenWords);
        var counts = ArrayPool<int>.Shared.Rent(d * d);
        try
        {
            Span<ulong> kt = transposed.AsSpan(0, d * tokenWords), vt = transposed.AsSpan(d * tokenWords, d * tokenWords);
            int first = item * l * words;
            BitTranspose.Transpose(ks.Words.Slice(first, l * words), l, d, kt);
            BitTranspose.Transpose(vs.Words.Slice(first, l * words), l, d, vt);
            Span<int> m = counts.AsSpan(0, d * d);
            SpikePopcount.AndPopcount(kt, d, vt, d, tokenWords, m);
            var yi = y.StorageArray.AsSpan(y.StorageOffset + item * d * d, d * d);
            for (int i = 0; i < yi.Length; i++) yi[i] = m[i];
        }
        finally
        {
            ArrayPool<int>.Shared.Return(counts);
            ArrayPool<ulong>.Shared.Return(transposed);
        }
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        var dk = NeedsGrad(0) ? Tensor.Empty(Inputs[0].Shape) : null;
        var dv = NeedsGrad(1) ? Tensor.Empty(Inputs[1].Shape) : null;
        var state = (gradOutput, k: _k, v: _v, dk, dv, shape: _shape);
        Parallelism.For(_shape.Count, 2L * _shape.Tokens * _shape.Channels * _shape.Channels, state, static (item, s) =>
        {
            int l = s.shape.Tokens, d = s.shape.Channels, size = l * d;
            ReadOnlySpan<float> g = s.gradOutput.AsReadOnlySpan().Slice(item * d * d, d * d);
            var scratch = ArrayPool<float>.Shared.Rent(size);
            try
            {
                Span<float> operand = scratch.AsSpan(0, size);
                if (s.dk is not null)
                {
                    s.v.Read(item * l, l, d, operand);
                    Gemm.Multiply(operand, false, g, true, s.dk.StorageArray.AsSpan(s.dk.StorageOffset + item * size, size), l, d, d);
                }
                if (s.dv is not null)
                {
                    s.k.Read(item * l, l, d, operand);
                    Gemm.Multiply(operand, false, g, false, s.dv.StorageArray.AsSpan(s.dv.StorageOffset + item * size, size), l, d, d);
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(scratch);
            }
        });
        return [dk, dv];
    }

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
        saved.Add("k", _k);
        saved.Add("v", _v);
    }

    protected internal override void ReleaseSaved()
    {
        _k.Release();
        _v.Release();
    }
}
