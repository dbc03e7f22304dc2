using System;
using Spiking.Autograd;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// Spikformer's spiking self-attention (SSA) over tokens <c>[T, B, N, D]</c>: Q, K and V are
/// <c>LIF(BN(Linear(x)))</c> spikes, split into heads; <c>Attn = Q·Kᵀ·V·s</c> with no softmax, the counts of
/// <c>Q·Kᵀ</c> taken by AND-popcount on the bits (<see cref="Functional.SpikingAttention"/>); a LIF with threshold
/// 0.5 turns the result into spikes, and <c>proj_linear</c> + <c>proj_bn</c> + <c>proj_lif</c> project it. Child
/// names are Spikformer's (<c>q_linear</c>, <c>q_bn</c>, <c>q_lif</c>, …, <c>attn_lif</c>, <c>proj_…</c>).
/// </summary>
public sealed class SpikingSelfAttention : Module, IOperationCounter
{
    private readonly Linear _q, _k, _v, _proj;
    private readonly BatchNorm1d _qBn, _kBn, _vBn, _projBn;
    private readonly SpikingNeuron _qLif, _kLif, _vLif, _attnLif, _projLif;

    /// <summary>SSA of width <paramref name="dim"/> with <paramref name="heads"/> heads and scale <paramref name="scale"/> (Spikformer: 0.125).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="heads"/> does not divide <paramref name="dim"/>.</exception>
    public SpikingSelfAttention(int dim, int heads, float scale = 0.125f)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(heads);
        if (dim <= 0 || dim % heads != 0) throw new ArgumentOutOfRangeException(nameof(dim), dim, $"SSA needs a width divisible by the {heads} heads.");
        (Dim, Heads, Scale) = (dim, heads, scale);
        _q = RegisterModule("q_linear", new Linear(dim, dim));
        _qBn = RegisterModule("q_bn", new BatchNorm1d(dim));
        _qLif = RegisterModule("q_lif", SpikingPatchSplitting.Neuron());
        _k = RegisterModule("k_linear", new Linear(dim, dim));
        _kBn = RegisterModule("k_bn", new BatchNorm1d(dim));
        _kLif = RegisterModule("k_lif", SpikingPatchSplitting.Neuron());
        _v = RegisterModule("v_linear", new Linear(dim, dim));
        _vBn = RegisterModule("v_bn", new BatchNorm1d(dim));
        _vLif = RegisterModule("v_lif", SpikingPatchSplitting.Neuron());
        _attnLif = RegisterModule("attn_lif", SpikingPatchSplitting.Neuron(threshold: 0.5f));
        _proj = RegisterModule("proj_linear", new Linear(dim, dim));
        _projBn = RegisterModule("proj_bn", new BatchNorm1d(dim));
        _projLif = RegisterModule("proj_lif", SpikingPatchSplitting.Neuron());
    }

    /// <summary>The token width D.</summary>
    public int Dim { get; }

    /// <summary>The number of heads.</summary>
    public int Heads { get; }

    /// <summary>The scale s applied to <c>Q·Kᵀ·V</c>.</summary>
    public float Scale { get; }

    /// <summary>
    /// The attention product's own accumulates (its Linear layers count theirs): <c>Q·Kᵀ</c> costs one AND-count per
    /// pair of coinciding spikes, <c>Σ_d (Σ_i q_id)(Σ_j k_jd)</c> per head, and <c>·V</c> one add of a count per V
    /// spike per query token, <c>L·Σ v</c>.
    /// </summary>
    public OperationCounts Operations { get; } = new();

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not <c>[T, B, N, D]</c>.</exception>
    public override Variable Forward(Variable input)
    {
        TokenChecks.Tokens(input, Dim, nameof(SpikingSelfAttention));
        var s = input.Shape;
        var q = SplitHeads(_qLif.Forward(SpikingMlpBlock.TokenNorm(_qBn, _q.Forward(input))));
        var k = SplitHeads(_kLif.Forward(SpikingMlpBlock.TokenNorm(_kBn, _k.Forward(input))));
        var v = SplitHeads(_vLif.Forward(SpikingMlpBlock.TokenNorm(_vBn, _v.Forward(input))));
        var attention = Functional.SpikingAttention(q, k, v, Scale);
        if (Operations.Enabled) Operations.AddSynaptic(AttentionOperations(q.Spikes!, k.Spikes!, v.Spikes!));
        var merged = Functional.Reshape(Functional.SwapMiddleAxes(attention), s[0], s[1], s[2], s[3]);
        var spikes = _attnLif.Forward(merged);
        return _projLif.Forward(SpikingMlpBlock.TokenNorm(_projBn, _proj.Forward(spikes)));
    }

    // [T, B, N, D] spikes → [T·B, H, N, D/H]: the bits are repacked per head, then whole rows move.
    private Variable SplitHeads(Variable x)
    {
        var s = x.Shape;
        return Functional.SwapMiddleAxes(Functional.Reshape(x, s[0] * s[1], s[2], Heads, s[3] / Heads));
    }

    /// <summary>Accumulates of <c>Q·Kᵀ·V</c> on head-major spikes <c>[N, H, L, d]</c> (see <see cref="Operations"/>).</summary>
    internal static long AttentionOperations(SpikeTensor q, SpikeTensor k, SpikeTensor v)
    {
        var shape = q.Shape;
        int heads = shape[0] * shape[1], tokens = shape[2], width = shape[3];
        var qColumns = new long[width];
        var kColumns = new long[width];
        long total = tokens * v.PopCount();
        for (int h = 0; h < heads; h++)
        {
            Array.Clear(qColumns);
            Array.Clear(kColumns);
            for (int i = 0; i < tokens; i++)
            {
                var qRow = q.Row(h * tokens + i);
                var kRow = k.Row(h * tokens + i);
                for (int d = 0; d < width; d++)
                {
                    qColumns[d] += (long)(qRow[d >> 6] >> (d & 63)) & 1;
                    kColumns[d] += (long)(kRow[d >> 6] >> (d & 63)) & 1;
                }
            }
            for (int d = 0; d < width; d++) total += qColumns[d] * kColumns[d];
        }
        return total;
    }
}
