using System;
using System.Numerics;
using Spiking.Autograd;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// Spike-driven self-attention (SDSA) over membrane-level tokens <c>[T, B, N, D]</c>, the Spike-driven
/// Transformer's attention with its membrane shortcut: <c>head_lif</c> first turns the dense input into spikes;
/// Q, K and V are <c>LIF(BN(Linear(spikes)))</c> (<c>q_linear</c>, <c>q_bn</c>, <c>q_lif</c>, …), split into heads;
/// the <see cref="SdsaVariant"/> core (SDSA-1 to SDSA-4) mixes them into spikes; <c>proj_linear</c> +
/// <c>proj_bn</c> project the result, which stays dense (membrane level) for the residual sum the caller makes.
/// </summary>
/// <remarks>
/// <para>
/// SDSA-1 (<see cref="SdsaVariant.KeyValueMask"/>): <c>KV = SUM_c(K ⊙ V)</c> per head
/// (<see cref="Functional.SpikeDrivenKeyValue"/>, counted by AND-popcount), <c>talking_heads_lif</c> (threshold 0.5,
/// run over time) turns the counts into a spike mask, and <see cref="Functional.SpikeMask"/> ANDs it into every
/// query row. SDSA-2 (<see cref="SdsaVariant.QueryKeyAttention"/>): <see cref="Functional.SpikingAttention"/>
/// (<c>(Q·Kᵀ)·V·s</c>) then <c>attn_lif</c>. SDSA-3 (<see cref="SdsaVariant.LinearAttention"/>):
/// <see cref="Functional.SpikeLinearAttention"/> (<c>Q·(Kᵀ·V)·s</c>) then <c>attn_lif</c>. SDSA-4
/// (<see cref="SdsaVariant.SpikingKeyValueAttention"/>): <see cref="Functional.SpikeKeyValueProduct"/>, <c>kv_lif</c>
/// over time, <see cref="Functional.SpikeQueryProduct"/> with the scale, then <c>attn_lif</c>. Every <c>attn_lif</c>
/// and <c>kv_lif</c> has threshold 0.5, as the reference code's.
/// </para>
/// <para>
/// As in the reference code, Q, K and V have no bias (a batch norm follows) and the projection has one. The
/// paper's first neuron is called <c>shortcut_lif</c> in SDT v1 and <c>head_lif</c> in Meta-SpikeFormer; neurons
/// hold no state-dict entries, so the name only shows in <see cref="Module.NamedModules"/>.
/// </para>
/// </remarks>
public sealed class SpikeDrivenSelfAttention : Module, IOperationCounter
{
    private readonly SpikingNeuron _headLif, _qLif, _kLif, _vLif, _mixLif;
    private readonly SpikingNeuron? _kvLif;
    private readonly Linear _q, _k, _v, _proj;
    private readonly BatchNorm1d _qBn, _kBn, _vBn, _projBn;

    /// <summary>
    /// SDSA of width <paramref name="dim"/> with <paramref name="heads"/> heads using <paramref name="variant"/>;
    /// <paramref name="scale"/> (0.125 in the reference code) enters SDSA-2, SDSA-3 and SDSA-4.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="heads"/> does not divide <paramref name="dim"/>, the variant is unknown or the scale is not finite.</exception>
    public SpikeDrivenSelfAttention(int dim, int heads, SdsaVariant variant = SdsaVariant.KeyValueMask, float scale = 0.125f)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(heads);
        if (dim <= 0 || dim % heads != 0) throw new ArgumentOutOfRangeException(nameof(dim), dim, $"SDSA needs a width divisible by the {heads} heads.");
        if (!Enum.IsDefined(variant)) throw new ArgumentOutOfRangeException(nameof(variant), variant, "Unknown SDSA variant.");
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
        if (variant == SdsaVariant.SpikingKeyValueAttention) _kvLif = RegisterModule("kv_lif", SpikingPatchSplitting.Neuron(threshold: 0.5f));
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

    /// <summary>The scale s of SDSA-2, SDSA-3 and SDSA-4.</summary>
    public float Scale { get; }

    /// <summary>
    /// The attention core's own accumulates (its Linear layers count theirs), by the rule the Spikformer count uses:
    /// a product of two spikes is one operation when both fired, and a count added for a spike is one operation.
    /// SDSA-1: the column sum adds one per coinciding key-value pair, <c>Σ_l |K_l ∧ V_l|</c>, and the mask one per
    /// query spike it passes, <c>Σ_l |Q_l ∧ mask|</c>. SDSA-2: Spikformer's <c>Σ_c (Σ_l q_lc)(Σ_l k_lc)</c> for
    /// <c>Q·Kᵀ</c> plus <c>L·Σ v</c> for <c>·V</c>. SDSA-3: <c>Kᵀ·V</c> adds one per key-value pair within a token,
    /// <c>Σ_l |K_l|·|V_l|</c>, and each query spike adds a row of d counts, <c>d·Σ q</c>. SDSA-4: the same
    /// <c>Kᵀ·V</c>, then one per pair of a query spike in channel i and a map spike in row i,
    /// <c>Σ_i (Σ_l q_li)·|M_i|</c>. The mask and map neurons are not counted, as no neuron update is.
    /// </summary>
    public OperationCounts Operations { get; } = new();

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
        var mixed = Variant switch
        {
            SdsaVariant.KeyValueMask => MaskQueries(q, k, v, s[0]),
            SdsaVariant.QueryKeyAttention => Fire(_mixLif, Functional.SpikingAttention(q, k, v, Scale), s[0]),
            SdsaVariant.LinearAttention => Fire(_mixLif, Functional.SpikeLinearAttention(q, k, v, Scale), s[0]),
            _ => SpikingKeyValueMix(q, k, v, s[0]),
        };
        if (Operations.Enabled && Variant is SdsaVariant.QueryKeyAttention or SdsaVariant.LinearAttention)
        {
            Operations.AddSynaptic(Variant == SdsaVariant.QueryKeyAttention
                ? SpikingSelfAttention.AttentionOperations(q.Spikes!, k.Spikes!, v.Spikes!)
                : LinearAttentionOperations(q.Spikes!, k.Spikes!, v.Spikes!));
        }
        var merged = Functional.Reshape(Functional.SwapMiddleAxes(mixed), s[0], s[1], s[2], s[3]);
        return SpikingMlpBlock.TokenNorm(_projBn, _proj.Forward(merged));
    }

    // KV [T·B, H, 1, d] counts → [T, B·H, 1, d] so the neuron runs over time, then back; the packed axis is kept.
    private Variable MaskQueries(Variable q, Variable k, Variable v, int steps)
    {
        var mask = Fire(_mixLif, Functional.SpikeDrivenKeyValue(k, v), steps);
        var masked = Functional.SpikeMask(q, mask);
        if (Operations.Enabled) Operations.AddSynaptic(KeyValueMaskOperations(k.Spikes!, v.Spikes!, masked.Spikes!));
        return masked;
    }

    // Kᵀ·V [T·B, H, d, d] counts → spikes through kv_lif over time, then the spike product with the queries.
    private Variable SpikingKeyValueMix(Variable q, Variable k, Variable v, int steps)
    {
        var map = Fire(_kvLif!, Functional.SpikeKeyValueProduct(k, v), steps);
        if (Operations.Enabled) Operations.AddSynaptic(SpikingKeyValueOperations(q.Spikes!, k.Spikes!, v.Spikes!, map.Spikes!));
        return Fire(_mixLif, Functional.SpikeQueryProduct(q, map, Scale), steps);
    }

    /// <summary>Runs <paramref name="neuron"/> over time on head-major currents <c>[T·B, H, R, C]</c> seen as <c>[T, B·H, R, C]</c>.</summary>
    private static Variable Fire(SpikingNeuron neuron, Variable currents, int steps)
    {
        var a = currents.Shape;
        var spikes = neuron.Forward(Functional.Reshape(currents, steps, a[0] / steps * a[1], a[2], a[3]));
        return Functional.Reshape(spikes, a[0], a[1], a[2], a[3]);
    }

    // [T, B, N, D] spikes → [T·B, H, N, D/H]: the bits are repacked per head, then whole rows move.
    private Variable SplitHeads(Variable x)
    {
        var s = x.Shape;
        return Functional.SwapMiddleAxes(Functional.Reshape(x, s[0] * s[1], s[2], Heads, s[3] / Heads));
    }

    /// <summary>SDSA-1's accumulates on head-major spikes <c>[N, H, L, d]</c>: <c>Σ_l |K_l ∧ V_l|</c> plus the mask output's spikes.</summary>
    internal static long KeyValueMaskOperations(SpikeTensor k, SpikeTensor v, SpikeTensor masked)
    {
        long total = masked.PopCount();
        ReadOnlySpan<ulong> kw = k.Words, vw = v.Words;
        for (int i = 0; i < kw.Length; i++) total += BitOperations.PopCount(kw[i] & vw[i]);
        return total;
    }

    /// <summary>SDSA-3's accumulates on head-major spikes <c>[N, H, L, d]</c>: <c>Σ_l |K_l|·|V_l| + d·Σ q</c>.</summary>
    internal static long LinearAttentionOperations(SpikeTensor q, SpikeTensor k, SpikeTensor v) =>
        KeyValueProductOperations(k, v) + q.Shape[3] * q.PopCount();

    /// <summary>
    /// SDSA-4's accumulates on head-major spikes <c>[N, H, L, d]</c> and the map <c>[N, H, d, d]</c>:
    /// <c>Σ_l |K_l|·|V_l|</c> plus, per head, <c>Σ_i (Σ_l q_li)·|M_i|</c>.
    /// </summary>
    internal static long SpikingKeyValueOperations(SpikeTensor q, SpikeTensor k, SpikeTensor v, SpikeTensor map)
    {
        var shape = q.Shape;
        int heads = shape[0] * shape[1], tokens = shape[2], width = shape[3];
        long total = KeyValueProductOperations(k, v);
        var rows = new int[map.RowCount];
        map.RowPopCounts(rows);
        var columns = new long[width];
        for (int h = 0; h < heads; h++)
        {
            Array.Clear(columns);
            for (int l = 0; l < tokens; l++)
            {
                var row = q.Row(h * tokens + l);
                for (int w = 0; w < row.Length; w++)
                {
                    for (ulong bits = row[w]; bits != 0; bits &= bits - 1) columns[(w << 6) + BitOperations.TrailingZeroCount(bits)]++;
                }
            }
            for (int i = 0; i < width; i++) total += columns[i] * rows[h * width + i];
        }
        return total;
    }

    /// <summary><c>Σ_l |K_l|·|V_l|</c>: every key-value spike pair within a token adds one count to <c>Kᵀ·V</c>.</summary>
    private static long KeyValueProductOperations(SpikeTensor k, SpikeTensor v)
    {
        var kRows = new int[k.RowCount];
        var vRows = new int[v.RowCount];
        k.RowPopCounts(kRows);
        v.RowPopCounts(vRows);
        long total = 0;
        for (int i = 0; i < kRows.Length; i++) total += (long)kRows[i] * vRows[i];
        return total;
    }
}
