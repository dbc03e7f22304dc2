namespace Spiking.Layers;

/// <summary>Which spike-driven self-attention core <see cref="SpikeDrivenSelfAttention"/> uses.</summary>
public enum SdsaVariant
{
    /// <summary>
    /// The Spike-driven Transformer's SDSA (Yao et al., NeurIPS 2023): <c>Q ⊙ SN(SUM_c(K ⊙ V))</c>, a column sum of
    /// the key-value AND turned into a per-channel spike mask (LIF, threshold 0.5) that gates the queries, so the
    /// attention's output is spikes and no number beyond a count is ever formed.
    /// </summary>
    KeyValueMask,

    /// <summary>
    /// Meta-SpikeFormer's SDSA-3 (Spike-driven Transformer V2, Yao et al., ICLR 2024): <c>SN(Q·(Kᵀ·V)·s)</c>, linear
    /// attention on spikes with the scale s = 0.125 and a LIF with threshold 0.5 after it.
    /// </summary>
    LinearAttention,
}
