using System;
using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// Spikformer's spiking self-attention core, <c>out = (Q·Kᵀ)·V · scale</c> with no softmax, per sample and
    /// head: <paramref name="q"/>, <paramref name="k"/> and <paramref name="v"/> are <c>[N, H, L, D]</c> (N = T·B
    /// folded, H heads, L tokens, D channels per head) and the result is the dense <c>[N, H, L, D]</c> float
    /// attention (Spikformer's scale is 0.125, followed by a LIF neuron with threshold 0.5, which the caller applies).
    /// Spike inputs count <c>Q·Kᵀ</c> by AND-popcount and sum the counts over V's spikes in integers, with no
    /// multiplication but the final scale; dense inputs run the SGEMM. On the same 0/1 values both give the same
    /// bits, as long as <c>L·D &lt; 2²⁴</c> (so the integer sums are exact in float).
    /// With <paramref name="causal"/>, query i sees only the keys j ≤ i, <c>out_i = s·Σ_{j≤i} (q_i·k_j) v_j</c> (a
    /// causal language model's attention): the masked counts are zero before they are summed, so the result stays
    /// an exact integer times the scale, and equals the running state <c>q_iᵀ·Σ_{j≤i} k_j v_jᵀ</c> bit for bit.
    /// </summary>
    /// <remarks>
    /// Backward, with <c>A = Q·Kᵀ</c> and output gradient G: <c>dV = s·Aᵀ·G</c>, <c>dA = s·G·Vᵀ</c>, <c>dQ = dA·K</c>,
    /// <c>dK = dAᵀ·Q</c>; for spike inputs these are the dense gradients with respect to the spikes, equal to the
    /// dense path's on the same values. Spike inputs are kept as bits for the backward, never as floats. Under the
    /// causal mask A and dA are zero above the diagonal, so no key or value after a query gets gradient from it.
    /// </remarks>
    /// <exception cref="ArgumentException">An input is not rank 4, the shapes differ (all are named), some inputs hold spikes and others do not, or <paramref name="scale"/> is not finite.</exception>
    public static Variable SpikingAttention(Variable q, Variable k, Variable v, float scale, bool causal = false) =>
        SpikingAttentionNode.Forward(q, k, v, scale, causal);
}

/// <summary>
/// Spiking self-attention. Saves views of the inputs its backward needs (the bits of spike inputs), not the
/// counts, which the backward recounts per head at a fraction of the cost of its products.
/// </summary>
internal sealed class SpikingAttentionNode : Node
{
    private const string Op = "SpikingAttention";

    private readonly float _scale;
    private readonly bool _causal;
    private readonly int _heads, _l, _d;
    private SavedTensor? _q, _k, _v;
    private SpikeTensor? _qs, _ks, _vs;

    private SpikingAttentionNode(Variable q, Variable k, Variable v, float scale, bool causal, int heads, int l, int d) : base(q, k, v)
    {
        (_scale, _causal, _heads, _l, _d) = (scale, causal, heads, l, d);
        // dK needs Q, dQ needs K, dQ and dK need V (through dA), and dV needs Q and K (through A).
        if (k.RequiresGrad || v.RequiresGrad) (_q, _qs) = Save(q, "spiking attention's 'q'");
        if (q.RequiresGrad || v.RequiresGrad) (_k, _ks) = Save(k, "spiking attention's 'k'");
        if (q.RequiresGrad || k.RequiresGrad) (_v, _vs) = Save(v, "spiking attention's 'v'");
    }

    public override string Name => "spiking attention";

    public static Variable Forward(Variable q, Variable k, Variable v, float scale, bool causal)
    {
        ArgumentNullException.ThrowIfNull(q);
        ArgumentNullException.ThrowIfNull(k);
        ArgumentNullException.ThrowIfNull(v);
        if (!float.IsFinite(scale)) throw new ArgumentException($"{Op} needs a finite 'scale'; it is {scale}.", nameof(scale));
        OpChecks.Rank(q, 4, nameof(q), $"{Op} ([N, H, L, D])");
        OpChecks.Rank(k, 4, nameof(k), $"{Op} ([N, H, L, D])");
        OpChecks.Rank(v, 4, nameof(v), $"{Op} ([N, H, L, D])");
        var shape = q.Shape;
        if (k.Shape != shape || v.Shape != shape)
        {
            throw new ArgumentException(
                $"{Op} needs 'q', 'k' and 'v' of the same shape [N, H, L, D]; got q {q.Shape}, k {k.Shape}, v {v.Shape}.",
                k.Shape != shape ? nameof(k) : nameof(v));
        }
        if (k.IsSpikes != q.IsSpikes || v.IsSpikes != q.IsSpikes)
        {
            throw new ArgumentException(
                $"{Op} needs 'q', 'k' and 'v' all spikes or all dense; q is {Kind(q)}, k is {Kind(k)}, v is {Kind(v)} (shape {shape}). " +
                "Convert spikes explicitly with Functional.SpikesToDense.",
                k.IsSpikes != q.IsSpikes ? nameof(k) : nameof(v));
        }
        int heads = shape[0] * shape[1], l = shape[2], d = shape[3];
        var y = Tensor.Empty(shape);
        if (y.Length > 0)
        {
            long work = 2L * l * l * d;
            if (q.Spikes is { } qs)
            {
                var job = new SpikeForwardJob(qs, k.Spikes!, v.Spikes!, y, l, d, scale, causal);
                Parallelism.For(heads, work, job, static (item, j) => j.Run(item));
            }
            else
            {
                var job = new DenseForwardJob(q.Tensor!, k.Tensor!, v.Tensor!, y, l, d, scale, causal);
                Parallelism.For(heads, work, job, static (item, j) => j.Run(item));
            }
        }
        return Variable.FromOp(y, Record(() => new SpikingAttentionNode(q, k, v, scale, causal, heads, l, d), q, k, v));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        var shape = Inputs[0].Shape;
        var dq = NeedsGrad(0) ? Tensor.Empty(shape) : null;
        var dk = NeedsGrad(1) ? Tensor.Empty(shape) : null;
        var dv = NeedsGrad(2) ? Tensor.Empty(shape) : null;
        if (shape.ElementCount > 0)
        {
            var job = new BackwardJob(
                _q?.Value, _k?.Value, _v?.Value, _qs, _ks, _vs, gradOutput, dq, dk, dv, _l, _d, _scale, _causal);
            Parallelism.For(_heads, 4L * _l * _l * _d, job, static (item, j) => j.Run(item));
        }
        return [dq, dk, dv];
    }

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
        saved.Add("q", _q);
        saved.Add("q", _qs);
        saved.Add("k", _k);
        saved.Add("k", _ks);
        saved.Add("v", _v);
        saved.Add("v", _vs);
    }

    protected internal override void ReleaseSaved()
    {
        _q?.Release();
        _k?.Release();
        _v?.Release();
        _qs?.Dispose();
        _ks?.Dispose();
        _vs?.Dispose();
        (_q, _k, _v, _qs, _ks, _vs) = (null, null, null, null, null, null);
    }

    private static (SavedTensor?, SpikeTensor?) Save(Variable x, string what) =>
        x.Spikes is { } s ? (null, SavedTensor.Keep(s)) : (new SavedTensor(x.Tensor!, what), null);

    private static string Kind(Variable x) => x.IsSpikes ? "spikes" : "dense";

    private static Span<float> Head(Tensor t, int item, int length) => t.StorageArray.AsSpan(t.StorageOffset + item * length, length);

    private static ReadOnlySpan<ulong> Head(SpikeTensor t, int item, int rows) => t.Words.Slice(item * rows * t.WordsPerRow, rows * t.WordsPerRow);

    /// <summary>Zeroes the entries above the diagonal of the row-major <c>[l, l]</c> <paramref name="scores"/> (column j &gt; row i: a key after its query).</summary>
    private static void MaskAfterDiagonal<T>(Span<T> scores, int l)
    {
        for (int i = 0; i + 1 < l; i++) scores.Slice(i * l + i + 1, l - i - 1).Clear();
    }

    /// <summary>Zeroes the entries below the diagonal of the row-major <c>[l, l]</c> <paramref name="transposed"/> (row j is a key, column i &lt; j a query before it).</summary>
    private static void MaskBeforeDiagonal<T>(Span<T> transposed, int l)
    {
        for (int j = 1; j < l; j++) transposed.Slice(j * l, j).Clear();
    }

    /// <summary>
    /// One head on spikes. With the transposed counts <c>Cᵀ[j, i] = |K_j ∧ Q_i|</c>, output column c is the sum of the
    /// rows <c>Cᵀ[j, :]</c> over the tokens j whose V spiked at c: integer vector adds into accumulators that stay in
    /// registers across a block of tokens, exact, with the scale as the only multiplication, once per output, as
    /// on the dense path.
    /// </summary>
    private readonly struct SpikeForwardJob(SpikeTensor q, SpikeTensor k, SpikeTensor v, Tensor y, int l, int d, float scale, bool causal)
    {
        /// <summary>Tokens per register block: four vectors of counts.</summary>
        private static int Block => 4 * Vector<int>.Count;

        public void Run(int item)
        {
            int wpr = q.WordsPerRow;
            var vw = Head(v, item, l);
            // The counts get one vector of zeros past the end, so a block's last load may run past the last row.
            int padded = l * l + Vector<int>.Count;
            int[] countsArray = ArrayPool<int>.Shared.Rent(padded);
            int[] listsArray = ArrayPool<int>.Shared.Rent(d + 1 + l * d);
            try
            {
                var counts = countsArray.AsSpan(0, padded);
                SpikePopcount.AndPopcount(Head(k, item, l), l, Head(q, item, l), l, wpr, counts[..(l * l)]);
                // The mask zeroes counts, so every masked pair still adds its zero in the same order: exact either way.
                if (causal) MaskBeforeDiagonal(counts[..(l * l)], l);
                counts[(l * l)..].Clear();
                var starts = listsArray.AsSpan(0, d + 1);
                var tokens = listsArray.AsSpan(d + 1, l * d);
                SpikeLists(vw, wpr, starts, tokens);
                Accumulate(counts, starts, tokens, Head(y, item, l * d));
            }
            finally
            {
                ArrayPool<int>.Shared.Return(listsArray);
                ArrayPool<int>.Shared.Return(countsArray);
            }
        }

        /// <summary>For each channel c, the tokens j whose V spiked at c, ascending, in <c>tokens[starts[c]..starts[c + 1]]</c>.</summary>
        private void SpikeLists(ReadOnlySpan<ulong> vw, int wpr, Span<int> starts, Span<int> tokens)
        {
            starts.Clear();
            for (int j = 0; j < l; j++)
            {
                for (int w = 0; w < wpr; w++)
                {
                    for (ulong bits = vw[j * wpr + w]; bits != 0; bits &= bits - 1) starts[(w << 6) + BitOperations.TrailingZeroCount(bits) + 1]++;
                }
            }
            for (int c = 0; c < d; c++) starts[c + 1] += starts[c];
            for (int j = 0; j < l; j++)
            {
                for (int w = 0; w < wpr; w++)
                {
                    for (ulong bits = vw[j * wpr + w]; bits != 0; bits &= bits - 1)
                    {
                        // starts[c] runs ahead as c's tokens are written, and ends at the old starts[c + 1].
                        tokens[starts[(w << 6) + BitOperations.TrailingZeroCount(bits)]++] = j;
                    }
                }
            }
            for (int c = d; c > 0; c--) starts[c] = starts[c - 1];
            starts[0] = 0;
        }

        [SkipLocalsInit]
        private void Accumulate(ReadOnlySpan<int> counts, ReadOnlySpan<int> starts, ReadOnlySpan<int> tokens, Span<float> output)
        {
            int width = Vector<int>.Count;
            Span<int> lanes = stackalloc int[Block];
            for (int i0 = 0; i0 < l; i0 += Block)
            {
                int vectors = Math.Min(4, (l - i0 + width - 1) / width);
                int valid = Math.Min(Block, l - i0);
                for (int c = 0; c < d; c++)
                {
                    Vector<int> s0 = default, s1 = default, s2 = default, s3 = default;
                    var list = tokens[starts[c]..starts[c + 1]];
                    if (vectors == 4)
                    {
                        foreach (int j in list)
                        {
                            var row = counts[(j * l + i0)..];
                            s0 += new Vector<int>(row);
                            s1 += new Vector<int>(row[width..]);
                            s2 += new Vector<int>(row[(2 * width)..]);
                            s3 += new Vector<int>(row[(3 * width)..]);
                        }
                    }
                    else
                    {
                        // A short last block: lanes past the head's last token read other rows' counts (or the zero
                        // padding) and are never stored.
                        foreach (int j in list)
                        {
                            var row = counts[(j * l + i0)..];
                            s0 += new Vector<int>(row);
                            if (vectors > 1) s1 += new Vector<int>(row[width..]);
                            if (vectors > 2) s2 += new Vector<int>(row[(2 * width)..]);
                        }
                    }
                    s0.CopyTo(lanes);
                    s1.CopyTo(lanes[width..]);
                    s2.CopyTo(lanes[(2 * width)..]);
                    s3.CopyTo(lanes[(3 * width)..]);
                    for (int i = 0; i < valid; i++) output[(i0 + i) * d + c] = lanes[i] * scale;
                }
            }
        }
    }

    /// <summary>One head on floats: <c>A = Q·Kᵀ</c>, then <c>A·V</c>, then the scale, so 0/1 inputs give exact integers before it.</summary>
    private readonly struct DenseForwardJob(Tensor q, Tensor k, Tensor v, Tensor y, int l, int d, float scale, bool causal)
    {
        public void Run(int item)
        {
            float[] scoresArray = ArrayPool<float>.Shared.Rent(l * l);
            try
            {
                var scores = scoresArray.AsSpan(0, l * l);
                var output = Head(y, item, l * d);
                Gemm.Multiply(Head(q, item, l * d), false, Head(k, item, l * d), true, scores, l, l, d);
                if (causal) MaskAfterDiagonal(scores, l);
                Gemm.Multiply(scores, false, Head(v, item, l * d), false, output, l, d, l);
                TensorPrimitives.Multiply(output, scale, output);
            }
            finally
            {
                ArrayPool<float>.Shared.Return(scoresArray);
            }
        }
    }

    /// <summary>
    /// One head's gradients, from <c>Gs = s·G</c>: <c>dV = Aᵀ·Gs</c>, <c>dA = Gs·Vᵀ</c>, <c>dQ = dA·K</c>, <c>dK = dAᵀ·Q</c>.
    /// Spike operands are unpacked into per-head scratch and A is taken from the popcounts; both equal the dense
    /// path's values exactly, and the products are the same SGEMM calls, so the two paths give the same bits.
    /// </summary>
    private readonly struct BackwardJob(
        Tensor? q, Tensor? k, Tensor? v, SpikeTensor? qs, SpikeTensor? ks, SpikeTensor? vs,
        Tensor g, Tensor? dq, Tensor? dk, Tensor? dv, int l, int d, float scale, bool causal)
    {
        public void Run(int item)
        {
            int ld = l * d, ll = l * l;
            bool needScores = dq is not null || dk is not null;
            // Scratch: Gs, A, dA, and unpacked Q, K, V.
            float[] scratch = ArrayPool<float>.Shared.Rent(ld + 2 * ll + 3 * ld);
            int[]? countsArray = null;
            try
            {
                var gs = scratch.AsSpan(0, ld);
                var a = scratch.AsSpan(ld, ll);
                var da = scratch.AsSpan(ld + ll, ll);
                var unpacked = scratch.AsSpan(ld + 2 * ll, 3 * ld);
                TensorPrimitives.Multiply(Head(g, item, ld), scale, gs);
                ReadOnlySpan<float> qf = Operand(q, qs, item, unpacked[..ld]);
                ReadOnlySpan<float> kf = Operand(k, ks, item, unpacked.Slice(ld, ld));
                ReadOnlySpan<float> vf = Operand(v, vs, item, unpacked.Slice(2 * ld, ld));
                if (dv is not null)
                {
                    if (qs is not null)
                    {
                        countsArray = ArrayPool<int>.Shared.Rent(ll);
                        var counts = countsArray.AsSpan(0, ll);
                        SpikePopcount.AndPopcount(Head(qs, item, l), l, Head(ks!, item, l), l, qs.WordsPerRow, counts);
                        for (int i = 0; i < ll; i++) a[i] = counts[i];
                    }
                    else
                    {
                        Gemm.Multiply(qf, false, kf, true, a, l, l, d);
                    }
                    if (causal) MaskAfterDiagonal(a, l);
                    Gemm.Multiply(a, true, gs, false, Head(dv, item, ld), l, d, l);
                }
                if (needScores)
                {
                    Gemm.Multiply(gs, false, vf, true, da, l, l, d);
                    if (causal) MaskAfterDiagonal(da, l);
                    if (dq is not null) Gemm.Multiply(da, false, kf, false, Head(dq, item, ld), l, d, l);
                    if (dk is not null) Gemm.Multiply(da, true, qf, false, Head(dk, item, ld), l, d, l);
                }
            }
            finally
            {
                if (countsArray is not null) ArrayPool<int>.Shared.Return(countsArray);
                ArrayPool<float>.Shared.Return(scratch);
            }
        }

        /// <summary>The head's values of a saved operand: a slice of the dense tensor, or its bits unpacked into <paramref name="scratch"/>; empty when not saved.</summary>
        private ReadOnlySpan<float> Operand(Tensor? dense, SpikeTensor? spikes, int item, Span<float> scratch)
        {
            if (dense is not null) return Head(dense, item, l * d);
            if (spikes is null) return default;
            BitPack.Unpack(Head(spikes, item, l), d, scratch);
            return scratch;
        }
    }
}
