using System;
using System.Buffers;
using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// The mask step of spike-driven self-attention (Spike-driven Transformer, Yao et al., NeurIPS 2023):
    /// <c>Q ⊙ SN(KV)</c>, the queries <paramref name="q"/> <c>[N, H, L, D]</c> masked by a per-channel
    /// <paramref name="mask"/> <c>[N, H, 1, D]</c> repeated over the L tokens. When both hold spikes the result is
    /// spikes, the bitwise AND of each query row with the mask row, and no number is formed; otherwise it is dense,
    /// a spike operand reading as 1 where it fired and 0 elsewhere.
    /// </summary>
    /// <remarks>
    /// Backward: <c>dQ = G ⊙ mask</c> and <c>dmask = Σ_l G[l] ⊙ Q[l]</c>, dense, the gradients with respect to the
    /// spikes on the spike path.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="q"/> is not <c>[N, H, L, D]</c> or <paramref name="mask"/> is not <c>[N, H, 1, D]</c> with the same N, H and D.</exception>
    public static Variable SpikeMask(Variable q, Variable mask) => SpikeMaskNode.Forward(q, mask);
}

/// <summary>
/// <c>Q[l] ⊙ mask</c> for every token l. Saves the mask when the queries need a gradient and the queries when the
/// mask does, as bits where they are spikes.
/// </summary>
internal sealed class SpikeMaskNode : Node
{
    private const string Op = "SpikeMask";
    private readonly HeadShape _shape;
    private readonly SavedOperand _q, _mask;

    private SpikeMaskNode(Variable q, Variable mask, HeadShape shape) : base(q, mask)
    {
        _shape = shape;
        _q = mask.RequiresGrad ? SavedOperand.Save(q, "spike mask's 'q'") : default;
        _mask = q.RequiresGrad ? SavedOperand.Save(mask, "spike mask's 'mask'") : default;
    }

    public override string Name => "spike mask";

    public static Variable Forward(Variable q, Variable mask)
    {
        var shape = HeadShape.Of(q, nameof(q), Op);
        var m = HeadShape.Of(mask, nameof(mask), Op);
        if (m != shape with { Tokens = 1 })
        {
            throw new ArgumentException(
                $"{Op}: 'mask' has shape {mask.Shape} but 'q' has shape {q.Shape}; the mask must be {shape.With(1)}, one row per (batch, head) repeated over the tokens.",
                nameof(mask));
        }
        var node = Record(() => new SpikeMaskNode(q, mask, shape), q, mask);
        if (q.Spikes is { } qs && mask.Spikes is { } ms)
        {
            var spikes = SpikeTensor.Zeros(q.Shape);
            Parallelism.For(shape.Count, (long)shape.Tokens * qs.WordsPerRow, (qs, ms, spikes, shape), static (item, s) =>
            {
                int words = s.qs.WordsPerRow;
                ReadOnlySpan<ulong> src = s.qs.Words, row = s.ms.Row(item);
                var dst = s.spikes.Words;
                int first = item * s.shape.Tokens * words;
                for (int l = 0; l < s.shape.Tokens; l++)
                {
                    int at = first + l * words;
                    for (int w = 0; w < words; w++) dst[at + w] = src[at + w] & row[w];
                }
            });
            return Variable.FromOp(spikes, node);
        }
        var y = Tensor.Empty(q.Shape);
        Parallelism.For(shape.Count, (long)shape.Tokens * shape.Channels, (q: SavedOperand.Of(q), mask: SavedOperand.Of(mask), y, shape), static (item, s) =>
        {
            int d = s.shape.Channels, size = s.shape.Tokens * d;
            var scratch = ArrayPool<float>.Shared.Rent(2 * d);
            Span<float> maskRow = scratch.AsSpan(0, d), qRow = scratch.AsSpan(d, d);
            s.mask.Read(item, 1, d, maskRow);
            var dst = s.y.StorageArray.AsSpan(s.y.StorageOffset + item * size, size);
            for (int l = 0; l < s.shape.Tokens; l++)
            {
                s.q.Read(item * s.shape.Tokens + l, 1, d, qRow);
                var to = dst.Slice(l * d, d);
                for (int c = 0; c < d; c++) to[c] = qRow[c] * maskRow[c];
            }
            ArrayPool<float>.Shared.Return(scratch);
        });
        return Variable.FromOp(y, node);
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        Tensor? dq = null, dmask = null;
        if (NeedsGrad(0))
        {
            dq = Tensor.Empty(_shape.With(_shape.Tokens));
            Parallelism.For(_shape.Count, (long)_shape.Tokens * _shape.Channels, (gradOutput, mask: _mask, dq, shape: _shape), static (item, s) =>
            {
                int d = s.shape.Channels, size = s.shape.Tokens * d;
                var scratch = ArrayPool<float>.Shared.Rent(d);
                Span<float> maskRow = scratch.AsSpan(0, d);
                s.mask.Read(item, 1, d, maskRow);
                ReadOnlySpan<float> g = s.gradOutput.AsReadOnlySpan().Slice(item * size, size);
                var dst = s.dq.StorageArray.AsSpan(s.dq.StorageOffset + item * size, size);
                for (int l = 0; l < s.shape.Tokens; l++)
                {
                    for (int c = 0; c < d; c++) dst[l * d + c] = g[l * d + c] * maskRow[c];
                }
                ArrayPool<float>.Shared.Return(scratch);
            });
        }
        if (NeedsGrad(1))
        {
            dmask = Tensor.Zeros(_shape.With(1));
            Parallelism.For(_shape.Count, (long)_shape.Tokens * _shape.Channels, (gradOutput, q: _q, dmask, shape: _shape), static (item, s) =>
            {
                int d = s.shape.Channels, size = s.shape.Tokens * d;
                var scratch = ArrayPool<float>.Shared.Rent(d);
                Span<float> qRow = scratch.AsSpan(0, d);
                ReadOnlySpan<float> g = s.gradOutput.AsReadOnlySpan().Slice(item * size, size);
                var sum = s.dmask.StorageArray.AsSpan(s.dmask.StorageOffset + item * d, d);
                for (int l = 0; l < s.shape.Tokens; l++)
                {
                    s.q.Read(item * s.shape.Tokens + l, 1, d, qRow);
                    for (int c = 0; c < d; c++) sum[c] += g[l * d + c] * qRow[c];
                }
                ArrayPool<float>.Shared.Return(scratch);
            });
        }
        return [dq, dmask];
    }

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
        saved.Add("q", _q);
        saved.Add("mask", _mask);
    }

    protected internal override void ReleaseSaved()
    {
        _q.Release();
        _mask.Release();
    }
}
