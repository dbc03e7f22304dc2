using System;
using System.Numerics;
using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// The key-value summary of spike-driven self-attention (Spike-driven Transformer, Yao et al., NeurIPS 2023):
    /// <c>KV = SUM_c(K ⊙ V)</c>, the column sum over tokens of the elementwise product, for <paramref name="k"/> and
    /// <paramref name="v"/> of shape <c>[N, H, L, D]</c>, giving dense <c>[N, H, 1, D]</c>. On spikes each entry is the
    /// number of tokens at which both the key and the value fired, counted from the bits by AND and population count
    /// (exact while L &lt; 2²⁴); dense operands take the float path. The caller applies the spiking neuron
    /// <c>SN(KV)</c> and then <see cref="SpikeMask"/> with the queries.
    /// </summary>
    /// <remarks>
    /// Backward: <c>dK[l] = G ⊙ V[l]</c> and <c>dV[l] = G ⊙ K[l]</c>, dense, which for spikes are the gradients with
    /// respect to the spikes that a surrogate neuron before them needs.
    /// </remarks>
    /// <exception cref="ArgumentException">An operand is not <c>[N, H, L, D]</c>, the shapes differ, or one operand holds spikes and the other is dense.</exception>
    public static Variable SpikeDrivenKeyValue(Variable k, Variable v) => SpikeDrivenKeyValueNode.Forward(k, v);
}

/// <summary>
/// <c>KV = Σ_l K[l] ⊙ V[l]</c> per (batch, head). Saves the values when the keys need a gradient and the keys when
/// the values do, as bits on the spike path.
/// </summary>
internal sealed class SpikeDrivenKeyValueNode : Node
{
    private const string Op = "SpikeDrivenKeyValue";
    private readonly HeadShape _shape;
    private SavedTensor? _k, _v;
    private SpikeTensor? _kBits, _vBits;

    private SpikeDrivenKeyValueNode(Variable k, Variable v, HeadShape shape) : base(k, v)
    {
        _shape = shape;
        if (v.RequiresGrad)
        {
            if (k.Spikes is { } kb) _kBits = SavedTensor.Keep(kb);
            else _k = new SavedTensor(k.Tensor!, "spike-driven key-value's 'k'");
        }
        if (k.RequiresGrad)
        {
            if (v.Spikes is { } vb) _vBits = SavedTensor.Keep(vb);
            else _v = new SavedTensor(v.Tensor!, "spike-driven key-value's 'v'");
        }
    }

    public override string Name => "spike-driven key-value";

    public static Variable Forward(Variable k, Variable v)
    {
        var shape = HeadShape.Of(k, nameof(k), Op);
        HeadShape.Of(v, nameof(v), Op);
        HeadShape.Same(k, nameof(k), v, nameof(v), Op);
        HeadShape.SameKind(Op, (k, nameof(k)), (v, nameof(v)));
        var y = Tensor.Zeros(shape.With(1));
        long work = (long)shape.Tokens * shape.Channels;
        if (k.Spikes is { } ks)
        {
            Parallelism.For(shape.Count, work / 64 + 1, (ks, vs: v.Spikes!, y, shape), static (item, s) =>
            {
                ReadOnlySpan<ulong> kw = s.ks.Words, vw = s.vs.Words;
                int words = s.ks.WordsPerRow;
                var counts = s.y.StorageArray.AsSpan(s.y.StorageOffset + item * s.shape.Channels, s.shape.Channels);
                int first = item * s.shape.Tokens * words;
                for (int l = 0; l < s.shape.Tokens; l++)
                {
                    int row = first + l * words;
                    for (int w = 0; w < words; w++)
                    {
                        // Each set bit of the AND is one token where both fired; padding bits are zero in both.
                        ulong both = kw[row + w] & vw[row + w];
                        while (both != 0)
                        {
                            counts[(w << 6) + BitOperations.TrailingZeroCount(both)] += 1f;
                            both &= both - 1;
                        }
                    }
                }
            });
        }
        else
        {
            Parallelism.For(shape.Count, work, (kd: k.Tensor!, vd: v.Tensor!, y, shape), static (item, s) =>
            {
                int d = s.shape.Channels, size = s.shape.Tokens * d;
                ReadOnlySpan<float> kv = s.kd.AsReadOnlySpan().Slice(item * size, size), vv = s.vd.AsReadOnlySpan().Slice(item * size, size);
                var sum = s.y.StorageArray.AsSpan(s.y.StorageOffset + item * d, d);
                for (int l = 0; l < s.shape.Tokens; l++)
                {
                    for (int c = 0; c < d; c++) sum[c] += kv[l * d + c] * vv[l * d + c];
                }
            });
        }
        return Variable.FromOp(y, Record(() => new SpikeDrivenKeyValueNode(k, v, shape), k, v));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput) =>
    [
        NeedsGrad(0) ? Spread(gradOutput, _vBits, _v?.Value) : null,
        NeedsGrad(1) ? Spread(gradOutput, _kBits, _k?.Value) : null,
    ];

    /// <summary><c>G ⊙ other[l]</c> for every token l: G where the other operand's bit is set, on spikes.</summary>
    private Tensor Spread(Tensor gradOutput, SpikeTensor? bits, Tensor? dense)
    {
        var result = Tensor.Empty(_shape.With(_shape.Tokens));
        Parallelism.For(_shape.Count, (long)_shape.Tokens * _shape.Channels, (gradOutput, bits, dense, result, shape: _shape), static (item, s) =>
        {
            int d = s.shape.Channels, size = s.shape.Tokens * d;
            ReadOnlySpan<float> g = s.gradOutput.AsReadOnlySpan().Slice(item * d, d);
            var dst = s.result.StorageArray.AsSpan(s.result.StorageOffset + item * size, size);
            if (s.bits is { } b)
            {
                ReadOnlySpan<ulong> words = b.Words;
                int wordsPerRow = b.WordsPerRow, first = item * s.shape.Tokens * wordsPerRow;
                for (int l = 0; l < s.shape.Tokens; l++)
                {
                    var row = words.Slice(first + l * wordsPerRow, wordsPerRow);
                    for (int c = 0; c < d; c++) dst[l * d + c] = (row[c >> 6] >> (c & 63) & 1) != 0 ? g[c] : 0f;
                }
            }
            else
            {
                ReadOnlySpan<float> other = s.dense!.AsReadOnlySpan().Slice(item * size, size);
                for (int l = 0; l < s.shape.Tokens; l++)
                {
                    for (int c = 0; c < d; c++) dst[l * d + c] = g[c] * other[l * d + c];
                }
            }
        });
        return result;
    }

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
        saved.Add("k", _k);
        saved.Add("k", _kBits);
        saved.Add("v", _v);
        saved.Add("v", _vBits);
    }

    protected internal override void ReleaseSaved()
    {
        _k?.Release();
        _v?.Release();
        _kBits?.Dispose();
        _vBits?.Dispose();
        _k = _v = null;
        _kBits = _vBits = null;
    }
}
