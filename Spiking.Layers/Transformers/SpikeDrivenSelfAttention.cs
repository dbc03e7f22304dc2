using System;
using Spiking.Autograd;

namespace Spiking.Layers;

/// <summary>
/// Spike-driven self-attention (SDSA) over membrane-level tokens <c>[T, B, N, D]</c>, the Spike-driven
/// Transformer's attention with its membrane shortcut: <c>head_lif</c> first turns the dense input into spikes;
/// Q, K and V are <c>LIF(BN(Linear(spikes)))</c> (<c>q_linear</c>, <c>q_bn</c>, <c>q_lif</c>, …), split into heads;
/// the <see cref="SdsaVariant"/> core mixes them into spikes; <c>proj_linear</c> + <c>proj_bn</c> project the
/// result, which stays dense (membrane level) for the residual sum the caller makes.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="SdsaVariant.KeyValueMask"/>: <c>KV = SUM_c(K ⊙ V)</c> per head (<see cref="Functional.SpikeDrivenKeyValue"/>,
/// counted by AND-popcount), <c>talking_heads_lif</c> (threshold 0.5, run over time) turns the counts into a
/// spike mask, and <see cref="Functional.SpikeMask"/> ANDs it into every query row.
/// <see cref="SdsaVariant.LinearAttention"/>: <see cref="Functional.SpikeLinearAttention"/> with the scale, then
/// <c>attn_lif</c> (threshold 0.5).
/// </para>
/// <para>
/// As in the reference code, Q, K and V have no bias (a batch norm follows) and the projection has one. The
/// paper's first neuron is called <c>shortcut_lif</c> in SDT v1 and <c>head_lif</c> in Meta-SpikeFormer; neurons
/// hold no state-dict entries, so the name only shows in <see cref="Module.NamedModules"/>.
/// </para>
/// </remarks>
public sealed class SpikeDrivenSelfAttention : Module
{
    private readonly SpikingNeuron _headLif, _qLif, _kLif, _vLif, _mixLif;
    private readonly Linear _q, _k, _v, _proj;
    private readonly BatchNorm1d _qBn, _kBn, _vBn, _projBn;

    /// <summary>
    /// SDSA of width <paramref name="dim"/> with <paramref name="heads"/> heads using <paramref name="variant"/>;
    /// <paramref name="scale"/> (0.125 in both papers) only enters <see cref="SdsaVariant.LinearAttention"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="heads"/> does not divide <paramref name="dim"/>, the variant is unknown or the scale is not finite.</exception>
    public SpikeDrivenSelfAttention(int dim, int heads, SdsaVariant variant = SdsaVariant.KeyValueMask, float scale = 0.125f)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(heads);
        if (dim <= 0 || dim % heads != 0) throw new ArgumentOutOfRangeException(nameof(dim), dim, $"SDSA needs a width divisible by the {heads} heads.");
        if (variant is not (SdsaVariant.KeyValueMask or SdsaVariant.LinearAttention)) throw new ArgumentOutOfRangeException(nameof(variant), variant, "Unknown SDSA variant.");
        if (!float.IsFinite(scale)) throw new ArgumentOutOfRangeException(nameof(scale), scale, "SDSA needs a finite scale.");
        (Dim, Heads, Variant, Scale) = (dim, heads, variant, scale);
        _headLif = RegisterModule("head_lif", SpikingPatchSplitting.Neuron());
        _q = RegisterModule("q_linear", new Linear(dim, dim, bias: false));
        _qBn = RegisterModule("q_bn", new BatchNorm1d(dim));
        _qLif = RegisterModule("q_lif", SpikingPatchSplitting.Neuron());
        _k = RegisterModule("k_linear", new Linear(dim, dim, bias: false));
        _kBn = RegisterModule("k_bn", new BatchNorm1d(dim));
        _kLif = RegisterModule("k_lif", SpikingPatchSplitting.Neuron());
        _v = RegisterModule("v_linear", new Linear(dim, dim, bias: false));
        _vBn = RegisterModule("v_bn", new BatchNorm1d(dim));
        _vLif = RegisterModule("v_lif", SpikingPatchSplitting.Neuron());
        _mixLif = RegisterModule(variant == SdsaVariant.KeyValueMask ? "talking_heads_lif" : "attn_lif", SpikingPatchSplitting.Neuron(threshold: 0.5f));
        _proj = RegisterModule("proj_linear", new Linear(dim, dim));
        _projBn = RegisterModule("proj_bn", new BatchNorm1d(dim));
    }

    /// <summary>The token width D.</summary>
    public int Dim { get; }

    /// <summary>The number of heads.</summary>
    public int Heads { get; }

    /// <summary>The attention core.</summary>
    public SdsaVariant Variant { get; }

    /// <summary>The scale of <see cref="SdsaVariant.LinearAttention"/>.</summary>
    public float Scale { get; }

    /// <inheritdoc/>
    /// <remarks>The input is the membrane-level residual stream (spikes are read as 0/1 currents); the output is dense.</remarks>
    /// <exception cref="ArgumentException">The input is not <c>[T, B, N, D]</c>.</exception>
    public override Variable Forward(Variable input)
    {
        TokenChecks.Tokens(input, Dim, nameof(SpikeDrivenSelfAttention));
        var s = input.Shape;
        var x = _headLif.Forward(input.IsSpikes ? Functional.SpikesToDense(input) : input);
        var q = SplitHeads(_qLif.Forward(SpikingMlpBlock.TokenNorm(_qBn, _q.Forward(x))));
        var k = SplitHeads(_kLif.Forward(SpikingMlpBlock.TokenNorm(_kBn, _k.Forward(x))));
        var v = SplitHeads(_vLif.Forward(SpikingMlpBlock.TokenNorm(_vBn, _v.Forward(x))));
        var mixed = Variant == SdsaVariant.KeyValueMask ? MaskQueries(q, k, v, s[0]) : LinearMix(q, k, v, s[0]);
        var merged = Functional.Reshape(Functional.SwapMiddleAxes(mixed), s[0], s[1], s[2], s[3]);
        return SpikingMlpBlock.TokenNorm(_projBn, _proj.Forward(merged));
    }

    // KV [T·B, H, 1, d] counts → [T, B·H, 1, d] so the neuron runs over time, then back; the packed axis is kept.
    private Variable MaskQueries(Variable q, Variable k, Variable v, int steps)
    {
        var kv = Functional.SpikeDrivenKeyValue(k, v);
        var ks = kv.Shape;
        var currents = Functional.Reshape(kv, steps, ks[0] / steps * ks[1], 1, ks[3]);
        var mask = Functional.Reshape(_mixLif.Forward(currents), ks[0], ks[1], 1, ks[3]);
        return Functional.SpikeMask(q, mask);
    }

    // Q·(Kᵀ·V)·s [T·B, H, N, d] → [T, B·H, N, d] for the neuron over time, then back.
    private Variable LinearMix(Variable q, Variable k, Variable v, int steps)
    {
        var attention = Functional.SpikeLinearAttention(q, k, v, Scale);
        var a = attention.Shape;
        var currents = Functional.Reshape(attention, steps, a[0] / steps * a[1], a[2], a[3]);
        return Functional.Reshape(_mixLif.Forward(currents), a[0], a[1], a[2], a[3]);
    }

    // [T, B, N, D] spikes → [T·B, H, N, D/H]: the bits are repacked per head, then whole rows move.
    private Variable SplitHeads(Variable x)
    {
        var s = x.Shape;
        return Functional.SwapMiddleAxes(Functional.Reshape(x, s[0] * s[1], s[2], Heads, s[3] / Heads));
    }
}
