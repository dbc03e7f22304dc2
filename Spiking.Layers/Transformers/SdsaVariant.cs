namespace Spiking.Layers;

/// <summary>
/// Which spike-driven self-attention core <see cref="SpikeDrivenSelfAttention"/> uses: the SDSA operators SDSA-1 to
/// SDSA-4 that Spike-driven Transformer V2 (Meta-SpikeFormer, Yao et al., ICLR 2024, Fig. 3 and Table 5) compares.
/// Q, K and V are spikes <c>[L, d]</c> per head (L tokens, d channels); SN is a LIF layer, and <c>SN_s</c> one whose
/// input is first scaled by s (the reference code's 0.125 before a LIF with threshold 0.5).
/// </summary>
/// <remarks>
/// SDSA-1 and SDSA-3 follow the reference code (BICLab/Spike-Driven-Transformer <c>module/ms_conv.py</c> and
/// BICLab/Spike-Driven-Transformer-V2 <c>classification/models.py</c>), which builds no other variant. SDSA-2 and
/// SDSA-4 follow the paper's comparison as reconstructed without its text at hand: the order of the products and the
/// place of the neuron are as described below, and the threshold of SDSA-4's <c>kv_lif</c> is a choice made here.
/// </remarks>
public enum SdsaVariant
{
    /// <summary>
    /// SDSA-1, the Spike-driven Transformer's SDSA (Yao et al., NeurIPS 2023): <c>Q ⊙ SN(SUM_c(K ⊙ V))</c>, a
    /// column sum over tokens of the key-value AND turned into a per-channel spike mask (LIF, threshold 0.5,
    /// <c>talking_heads_lif</c>) that gates the queries, O(L·d); the output is spikes.
    /// </summary>
    KeyValueMask,

    /// <summary>
    /// SDSA-2: <c>SN_s((Q·Kᵀ)·V·s)</c>, the token-by-token map <c>Q·Kᵀ</c> (<c>[L, L]</c> counts) formed first and
    /// then multiplied by V, O(L²·d), the order of Spikformer's SSA; a LIF with threshold 0.5 (<c>attn_lif</c>)
    /// follows. Equal to SDSA-3 in value (the counts are exact integers); it differs in the work it does.
    /// </summary>
    QueryKeyAttention,

    /// <summary>
    /// SDSA-3, Meta-SpikeFormer's choice: <c>SN_s(Q·(Kᵀ·V)·s)</c>, the channel map <c>Kᵀ·V</c> (<c>[d, d]</c>
    /// counts) formed first, so the cost is linear in the tokens, O(L·d²); <c>attn_lif</c> (threshold 0.5) follows.
    /// </summary>
    LinearAttention,

    /// <summary>
    /// SDSA-4: <c>SN_s(Q·SN(Kᵀ·V)·s)</c>, SDSA-3 with a spiking neuron (<c>kv_lif</c>, threshold 0.5, as the SDSA-1
    /// mask's) on the channel map, so the second product is between two spike matrices and no integer but a count
    /// reaches the queries, O(L·d²); <c>attn_lif</c> (threshold 0.5) follows.
    /// </summary>
    SpikingKeyValueAttention,
}
