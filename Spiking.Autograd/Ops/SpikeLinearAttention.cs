using System;
using System.Buffers;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// The linear spike-driven self-attention of Meta-SpikeFormer (Spike-driven Transformer V2, Yao et al., ICLR 2024,
    /// SDSA-3): <c>Q·(Kᵀ·V)·scale</c> for <paramref name="q"/>, <paramref name="k"/> and <paramref name="v"/> of shape
    /// <c>[N, H, L, D]</c>, giving dense <c>[N, H, L, D]</c>. <c>M = Kᵀ·V</c> (<c>[D, D]</c> per head) is formed first, so
    /// the cost is linear in the tokens. On spikes, <c>M[i, j]</c> counts the tokens where key channel i and value
    /// channel j both fired (AND and population count of the transposed bits) and each output row sums the rows of M
    /// whose query bit is set, all in integers, scaled once at the end; dense operands take the SGEMM. The caller
    /// applies the spiking neuron after it.
    /// </summary>
    /// <remarks>
    /// Backward, with <c>M = Kᵀ·V</c>: <c>dQ = s·G·Mᵀ</c>, <c>dM = s·Qᵀ·G</c>, <c>dK = V·dMᵀ</c>, <c>dV = K·dM</c>, dense,
    /// the gradients with respect to the spikes on the spike path.
    /// </remarks>
    /// <exception cref="ArgumentException">An operand is not <c>[N, H, L, D]</c>, the shapes differ, some operands hold spikes and others are dense, or <paramref name="scale"/> is not finite.</exception>
    public static Variable SpikeLinearAttention(Variable q, Variable k, Variable v, float scale) =>
        SpikeLinearAttentionNode.Forward(q, k, v, scale);
}

/// <summary>
/// <c>s·Q·(Kᵀ·V)</c> per (batch, head). Saves <c>M = Kᵀ·V</c> (dense counts, not spikes) when the queries need a
/// gradient, the queries when the keys or values do, the values when the keys do and the keys when the values do;
/// spikes are saved as bits and unpacked one head at a time in backward.
/// </summary>
internal sealed class SpikeLinearAttentionNode : Node
{
    private const string Op = "SpikeLinearAttention";
    private readonly HeadShape _shape;
    private readonly float _scale;
    private readonly SavedOperand _q, _k, _v;
    private SavedTensor? _m;

    private SpikeLinearAttentionNode(Variable q, Variable k, Variable v, Tensor m, HeadShape shape, float scale) : base(q, k, v)
    {
        (_shape, _scale) = (shape, scale);
        if (q.RequiresGrad) _m = new SavedTensor(m, "spike linear attention's Kᵀ·V");
        if (k.RequiresGrad || v.RequiresGrad) _q = SavedOperand.Save(q, "spike linear attention's 'q'");
        if (v.RequiresGrad) _k = SavedOperand.Save(k, "spike linear attention's 'k'");
        if (k.RequiresGrad) _v = SavedOperand.Save(v, "spike linear attention's 'v'");
    }

    public override string Name => "spike linear attention";

    public static Variable Forward(Variable q, Variable k, Variable v, float scale)
    {
        var shape = HeadShape.Of(q, nameof(q), Op);
        HeadShape.Of(k, nameof(k), Op);
        HeadShape.Of(v, nameof(v), Op);
        HeadShape.Same(q, nameof(q), k, nameof(k), Op);
        HeadShape.Same(q, nameof(q), v, nameof(v), Op);
        HeadShape.SameKind(Op, (q, nameof(q)), (k, nameof(k)), (v, nameof(v)));
        if (!float.IsFinite(scale))
        {
            throw new ArgumentOutOfRangeException(nameof(scale), scale, $"{Op} needs a finite scale; got {scale}.");
        }
        int l = shape.Tokens, d = shape.Channels;
        using var m = Tensor.Empty(new Shape(shape.Batch, shape.Heads, d, d));
        var y = Tensor.Empty(q.Shape);
        long work = 2L * l * d * d;
        if (q.Spikes is { } qs)
        {
            Parallelism.For(shape.Count, work / 64 + 1, (qs, ks: k.Spikes!, vs: v.Spikes!, m, y, shape, scale), static (item, s) =>
                SpikeHead(item, s.qs, s.ks, s.vs, s.m, s.y, s.shape, s.scale));
        }
        else
        {
            Parallelism.For(shape.Count, work, (qd: q.Tensor!, kd: k.Tensor!, vd: v.Tensor!, m, y, shape, scale), static (item, s) =>
            {
                int l = s.shape.Tokens, d = s.shape.Channels, size = l * d;
                var mi = s.m.StorageArray.AsSpan(s.m.StorageOffset + item * d * d, d * d);
                var yi = s.y.StorageArray.AsSpan(s.y.StorageOffset + item * size, size);
                Gemm.Multiply(s.kd.AsReadOnlySpan().Slice(item * size, size), true, s.vd.AsReadOnlySpan().Slice(item * size, size), false, mi, d, d, l);
                Gemm.Multiply(s.qd.AsReadOnlySpan().Slice(item * size, size), false, mi, false, yi, l, d, d);
                for (int i = 0; i < yi.Length; i++) yi[i] *= s.scale;
            });
        }
        return Variable.FromOp(y, Record(() => new SpikeLinearAttentionNode(q, k, v, m, shape, scale), q, k, v));
    }

    /// <summary>One head on bits: integer <c>M = Kᵀ·V</c>, then integer sums of M's rows picked by each query row.</summary>
    private static void SpikeHead(int item, SpikeTensor qs, SpikeTensor ks, SpikeTensor vs, Tensor m, Tensor y, HeadShape shape, float scale)
    {
        int l = shape.Tokens, d = shape.Channels, words = qs.WordsPerRow, tokenWords = SpikeTensor.WordsFor(l);
        var kt = ArrayPool<ulong>.Shared.Rent(2 * d * tokenWords);
        var counts = ArrayPool<int>.Shared.Rent(d * d + d);
        try
        {
            Span<ulong> kTransposed = kt.AsSpan(0, d * tokenWords), vTransposed = kt.AsSpan(d * tokenWords, d * tokenWords);
            int first = item * l * words;
            // Token-major bits become channel-major rows, so M[i, j] is the AND-popcount of key row i and value row j.
            BitTranspose.Transpose(ks.Words.Slice(first, l * words), l, d, kTransposed);
            BitTranspose.Transpose(vs.Words.Slice(first, l * words), l, d, vTransposed);
            Span<int> mCounts = counts.AsSpan(0, d * d), row = counts.AsSpan(d * d, d);
            SpikePopcount.AndPopcount(kTransposed, d, vTransposed, d, tokenWords, mCounts);
            var mi = m.StorageArray.AsSpan(m.StorageOffset + item * d * d, d * d);
            for (int i = 0; i < mi.Length; i++) mi[i] = mCounts[i];

            ReadOnlySpan<ulong> qw = qs.Words;
            var yi = y.StorageArray.AsSpan(y.StorageOffset + item * l * d, l * d);
            for (int t = 0; t < l; t++)
            {
                row.Clear();
                for (int w = 0; w < words; w++)
                {
                    ulong bits = qw[first + t * words + w];
                    while (bits != 0)
                    {
                        var picked = mCounts.Slice(((w << 6) + System.Numerics.BitOperations.TrailingZeroCount(bits)) * d, d);
                        for (int j = 0; j < d; j++) row[j] += picked[j];
                        bits &= bits - 1;
                    }
                }
                var yt = yi.Slice(t * d, d);
                for (int j = 0; j < d; j++) yt[j] = row[j] * scale;
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(counts);
            ArrayPool<ulong>.Shared.Return(kt);
        }
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        var dq = NeedsGrad(0) ? Tensor.Empty(Inputs[0].Shape) : null;
        var dk = NeedsGrad(1) ? Tensor.Empty(Inputs[1].Shape) : null;
        var dv = NeedsGrad(2) ? Tensor.Empty(Inputs[2].Shape) : null;
        var state = (gradOutput, m: _m?.Value, q: _q, k: _k, v: _v, dq, dk, dv, shape: _shape, scale: _scale);
        Parallelism.For(_shape.Count, 4L * _shape.Tokens * _shape.Channels * _shape.Channels, state, static (item, s) =>
        {
            int l = s.shape.Tokens, d = s.shape.Channels, size = l * d;
            ReadOnlySpan<float> g = s.gradOutput.AsReadOnlySpan().Slice(item * size, size);
            if (s.dq is not null)
            {
                var dqi = s.dq.StorageArray.AsSpan(s.dq.StorageOffset + item * size, size);
                Gemm.Multiply(g, false, s.m!.AsReadOnlySpan().Slice(item * d * d, d * d), true, dqi, l, d, d);
                for (int i = 0; i < dqi.Length; i++) dqi[i] *= s.scale;
            }
            if (s.dk is null && s.dv is null) return;
            var scratch = ArrayPool<float>.Shared.Rent(d * d + size);
            try
            {
                Span<float> dm = scratch.AsSpan(0, d * d), operand = scratch.AsSpan(d * d, size);
                s.q.Read(item * l, l, d, operand);
                Gemm.Multiply(operand, true, g, false, dm, d, d, l);
                for (int i = 0; i < dm.Length; i++) dm[i] *= s.scale;
                if (s.dk is not null)
                {
                    s.v.Read(item * l, l, d, operand);
                    Gemm.Multiply(operand, false, dm, true, s.dk.StorageArray.AsSpan(s.dk.StorageOffset + item * size, size), l, d, d);
                }
                if (s.dv is not null)
                {
                    s.k.Read(item * l, l, d, operand);
                    Gemm.Multiply(operand, false, dm, false, s.dv.StorageArray.AsSpan(s.dv.StorageOffset + item * size, size), l, d, d);
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(scratch);
            }
        });
        return [dq, dk, dv];
    }

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
        saved.Add("q", _q);
        saved.Add("k", _k);
        saved.Add("v", _v);
        saved.Add("K^T V", _m);
    }

    protected internal override void ReleaseSaved()
    {
        _m?.Release();
        _m = null;
        _q.Release();
        _k.Release();
        _v.Release();
    }
}
