using System;
using System.Numerics;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// <see cref="SpikingLm"/>'s causal spiking self-attention over tokens <c>[T, B, C]</c>: <c>q, k, v = LIF(Linear(h))</c>
/// (no bias), split into heads along C; <c>a = LIF_{0.5}(s·Σ_{j≤i} (q_i·k_j) v_j)</c> per window and head with no
/// softmax (<see cref="Functional.SpikingAttention"/> under its causal mask); returns the projection
/// <c>output(a)</c>, the current the block's <c>lif1</c> fires on. Child names: <c>q</c>, <c>k</c>, <c>v</c>,
/// <c>output</c> (the Linear layers), <c>q_lif</c>, <c>k_lif</c>, <c>v_lif</c>, <c>attn_lif</c>.
/// </summary>
internal sealed class SpikingLmAttention : Module
{
    private readonly Linear _q, _k, _v, _output;
    private readonly SpikingNeuron _qLif, _kLif, _vLif, _attnLif;

    public SpikingLmAttention(int width, int heads, float scale, PhiloxGenerator generator)
    {
        (Width, Heads, Scale) = (width, heads, scale);
        _q = RegisterModule("q", new Linear(width, width, bias: false, generator));
        _k = RegisterModule("k", new Linear(width, width, bias: false, generator));
        _v = RegisterModule("v", new Linear(width, width, bias: false, generator));
        _output = RegisterModule("output", new Linear(width, width, bias: false, generator));
        SpikingLmBlock.UnitVariance(_q, _k, _v, _output);
        _qLif = RegisterModule("q_lif", SpikingLmBlock.Lif());
        _kLif = RegisterModule("k_lif", SpikingLmBlock.Lif());
        _vLif = RegisterModule("v_lif", SpikingLmBlock.Lif());
        // Spikformer's attn_lif: the scaled counts are multiples of s, so a lower threshold lets one coincidence fire.
        _attnLif = RegisterModule("attn_lif", SpikingLmBlock.Lif(0.5f));
    }

    public int Width { get; }

    public int Heads { get; }

    public float Scale { get; }

    /// <summary>The whole window: <paramref name="h"/> is the normalised <c>[T, B, C]</c>; returns the projection current <c>[T, B, C]</c>.</summary>
    public override Variable Forward(Variable h)
    {
        var s = h.Shape;
        var q = SplitHeads(_qLif.Forward(_q.Forward(h)));
        var k = SplitHeads(_kLif.Forward(_k.Forward(h)));
        var v = SplitHeads(_vLif.Forward(_v.Forward(h)));
        var attention = Functional.SpikingAttention(q, k, v, Scale, causal: true);
        var merged = Functional.Reshape(Functional.SwapMiddleAxes(attention), s[0], s[1], s[2]);
        return _output.Forward(_attnLif.Forward(merged));
    }

    /// <summary>
    /// One token, <paramref name="h"/> <c>[1, 1, C]</c>, from <paramref name="state"/>: the causal sum without
    /// softmax is linear attention, <c>Σ_{j≤i} (q_i·k_j) v_j = q_iᵀ·S_i</c> with <c>S_i = S_{i−1} + k_i v_iᵀ</c>, so
    /// the token updates S by its coinciding k and v spikes and reads it with its q spikes. On spikes both are
    /// integer counts, the same integers the window's AND-popcounts sum, scaled once: the same bits.
    /// </summary>
    public Variable Feed(Variable h, SpikingLmLayerState state)
    {
        using var qCurrent = _q.Forward(h);
        using var kCurrent = _k.Forward(h);
        using var vCurrent = _v.Forward(h);
        using var q = SpikingLmBlock.Fire(_qLif, qCurrent, ref state.Q);
        using var k = SpikingLmBlock.Fire(_kLif, kCurrent, ref state.K);
        using var v = SpikingLmBlock.Fire(_vLif, vCurrent, ref state.V);
        var attention = Tensor.Zeros(1, 1, Width);
        Attend(q.Spikes!.Row(0), k.Spikes!.Row(0), v.Spikes!.Row(0), state.Sums, attention.AsSpan());
        using var current = Variable.Constant(attention);
        using var a = SpikingLmBlock.Fire(_attnLif, current, ref state.Attention);
        return _output.Forward(a);
    }

    /// <summary><c>S += k vᵀ</c> per head (row c of the <c>[H, D, D]</c> sums is key channel c), then <c>out = s·qᵀ S</c>, visiting set bits only.</summary>
    private void Attend(ReadOnlySpan<ulong> q, ReadOnlySpan<ulong> k, ReadOnlySpan<ulong> v, int[] sums, Span<float> output)
    {
        int d = Width / Heads;
        for (int w = 0; w < k.Length; w++)
        {
            for (ulong kb = k[w]; kb != 0; kb &= kb - 1)
            {
                int c = (w << 6) + BitOperations.TrailingZeroCount(kb);
                int head = c / d;
                var row = sums.AsSpan(c * d, d);
                // The value bits of the same head only: channels [head·d, head·d + d).
                for (int e = head * d; e < head * d + d; e++)
                {
                    if (((v[e >> 6] >> (e & 63)) & 1) != 0) row[e - head * d]++;
                }
            }
        }
        for (int head = 0; head < Heads; head++)
        {
            var total = output.Slice(head * d, d);
            for (int c = head * d; c < head * d + d; c++)
            {
                if (((q[c >> 6] >> (c & 63)) & 1) == 0) continue;
                var row = sums.AsSpan(c * d, d);
                for (int e = 0; e < d; e++) total[e] += row[e];
            }
        }
        // The sums above are whole numbers below 2²⁴, exact in float; the scale is the one rounding, as in the window.
        for (int i = 0; i < output.Length; i++) output[i] *= Scale;
    }

    // [T, B, C] spikes → [1, B·H, T, D]: the window's B·H (sample, head) pairs are the op's heads, tokens its L.
    private Variable SplitHeads(Variable x)
    {
        var s = x.Shape;
        return Functional.SwapMiddleAxes(Functional.Reshape(x, 1, s[0], s[1] * Heads, s[2] / Heads));
    }
}
