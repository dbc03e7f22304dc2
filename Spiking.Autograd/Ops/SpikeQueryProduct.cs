using System;
using System.Buffers;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// The query product of Meta-SpikeFormer's SDSA-4 (Spike-driven Transformer V2, Yao et al., ICLR 2024):
    /// <c>Y = scale·Q·M</c> per (batch, head) for queries <paramref name="q"/> <c>[N, H, L, D]</c> and a channel map
    /// <paramref name="m"/> <c>[N, H, D, D]</c> (the spikes <c>SN(Kᵀ·V)</c> of <see cref="SpikeKeyValueProduct"/>),
    /// giving dense <c>[N, H, L, D]</c>. When both hold spikes, <c>Y[t, j]</c> counts the channels i where query bit
    /// <c>Q[t, i]</c> and map bit <c>M[i, j]</c> are both set, by AND and population count against the transposed map,
    /// and is scaled once; dense operands take the SGEMM. The caller applies the spiking neuron after it.
    /// </summary>
    /// <remarks>
    /// Backward: <c>dQ = s·G·Mᵀ</c> and <c>dM = s·Qᵀ·G</c>, dense, the gradients with respect to the spikes on the
    /// spike path.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="q"/> is not <c>[N, H, L, D]</c>, <paramref name="m"/> is not <c>[N, H, D, D]</c> with the same N, H and D, one operand holds spikes and the other is dense, or <paramref name="scale"/> is not finite.</exception>
    public static Variable SpikeQueryProduct(Variable q, Variable m, float scale) => SpikeQueryProductNode.Forward(q, m, scale);
}

/// <summary>
/// <c>s·Q·M</c> per (batch, head). Saves the map when the queries need a gradient and the queries when the map
/// does, as bits on the spike path.
/// </summary>
internal sealed class SpikeQueryProductNode : Node
{
    private const string Op = "SpikeQueryProduct";
    private readonly HeadShape _shape;
    private readonly float _scale;
    private readonly SavedOperand _q, _m;

    private SpikeQueryProductNode(Variable q, Variable m, HeadShape shape, float scale) : base(q, m)
    {
        (_shape, _scale) = (shape, scale);
        _q = m.RequiresGrad ? SavedOperand.Save(q, "spike query product's 'q'") : default;
        _m = q.RequiresGrad ? SavedOperand.Save(m, "spike query product's 'm'") : default;
    }

    public override string Name => "spike query product";

    public static Variable Forward(Variable q, Variable m, float scale)
    {
        var shape = HeadShape.Of(q, nameof(q), Op);
        var map = HeadShape.Of(m, nameof(m), Op);
        if (map != shape with { Tokens = shape.Channels })
        {
            throw new ArgumentException(
                $"{Op}: 'm' has shape {m.Shape} but 'q' has shape {q.Shape}; the map must be {shape.With(shape.Channels)}, one [D, D] channel map per (batch, head).",
                nameof(m));
        }
        HeadShape.SameKind(Op, (q, nameof(q)), (m, nameof(m)));
        if (!float.IsFinite(scale))
        {
            throw new ArgumentOutOfRangeException(nameof(scale), scale, $"{Op} needs a finite scale; got {scale}.");
        }
        int l = shape.Tokens, d = shape.Channels;
        var y = Tensor.Empty(q.Shape);
        long work = (long)l * d * d;
        if (q.Spikes is { } qs)
        {
            Parallelism.For(shape.Count, work / 64 + 1, (qs, ms: m.Spikes!, y, shape, scale), static (item, s) =>
                SpikeHead(item, s.qs, s.ms, s.y, s.shape, s.scale));
        }
        else
        {
            Parallelism.For(shape.Count, work, (qd: q.Tensor!, md: m.Tensor!, y, shape, scale), static (item, s) =>
            {
                int l = s.shape.Tokens, d = s.shape.Channels, size = l * d;
                var yi = s.y.StorageArray.AsSpan(s.y.StorageOffset + item * size, size);
                Gemm.Multiply(s.qd.AsReadOnlySpan().Slice(item * size, size), false, s.md.AsReadOnlySpan().Slice(item * d * d, d * d), false, yi, l, d, d);
                for (int i = 0; i < yi.Length; i++) yi[i] *= s.scale;
            });
        }
        return Variable.FromOp(y, Record(() => new SpikeQueryProductNode(q, m, shape, scale), q, m));
    }

    /// <summary>One head on bits: the map's columns become rows, then each output is an AND-popcount of two rows.</summary>
    private static void SpikeHead(int item, SpikeTensor qs, SpikeTensor ms, Tensor y, HeadShape shape, float scale)
    {
        int l = shape.Tokens, d = shape.Channels, words = qs.WordsPerRow;
        var transposed = ArrayPool<ulong>.Shared.Rent(d * words);
        var counts = ArrayPool<int>.Shared.Rent(l * d);
        try
        {
            Span<ulong> mt = transposed.AsSpan(0, d * words);
            BitTranspose.Transpose(ms.Words.Slice(item * d * words, d * words), d, d, mt);
            Span<int> c = counts.AsSpan(0, l * d);
            SpikePopcount.AndPopcount(qs.Words.Slice(item * l * words, l * words), l, mt, d, words, c);
            var yi = y.StorageArray.AsSpan(y.StorageOffset + item * l * d, l * d);
            for (int i = 0; i < yi.Length; i++) yi[i] = c[i] * scale;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(counts);
            ArrayPool<ulong>.Shared.Return(transposed);
        }
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        var dq = NeedsGrad(0) ? Tensor.Empty(Inputs[0].Shape) : null;
        var dm = NeedsGrad(1) ? Tensor.Empty(Inputs[1].Shape) : null;
        var state = (gradOutput, q: _q, m: _m, dq, dm, shape: _shape, scale: _scale);
        Parallelism.For(_shape.Count, 2L * _shape.Tokens * _shape.Channels * _shape.Channels, state, static (item, s) =>
        {
            int l = s.shape.Tokens, d = s.shape.Channels, size = l * d;
            ReadOnlySpan<float> g = s.gradOutput.AsReadOnlySpan().Slice(item * size, size);
            var scratch = ArrayPool<float>.Shared.Rent(Math.Max(size, d * d));
            try
            {
                if (s.dq is not null)
                {
                    Span<float> map = scratch.AsSpan(0, d * d);
                    s.m.Read(item * d, d, d, map);
                    var dqi = s.dq.StorageArray.AsSpan(s.dq.StorageOffset + item * size, size);
                    Gemm.Multiply(g, false, map, true, dqi, l, d, d);
                    for (int i = 0; i < dqi.Length; i++) dqi[i] *= s.scale;
                }
                if (s.dm is not null)
                {
                    Span<float> queries = scratch.AsSpan(0, size);
                    s.q.Read(item * l, l, d, queries);
                    var dmi = s.dm.StorageArray.AsSpan(s.dm.StorageOffset + item * d * d, d * d);
                    Gemm.Multiply(queries, true, g, false, dmi, d, d, l);
                    for (int i = 0; i < dmi.Length; i++) dmi[i] *= s.scale;
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(scratch);
            }
        });
        return [dq, dm];
    }

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
        saved.Add("q", _q);
        saved.Add("m", _m);
    }

    protected internal override void ReleaseSaved()
    {
        _q.Release();
        _m.Release();
    }
}
