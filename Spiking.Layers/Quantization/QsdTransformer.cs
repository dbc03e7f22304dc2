using System;

namespace Spiking.Layers;

/// <summary>
/// The Quantized Spike-driven Transformer (QSD-Transformer, bollossom/QSD-Transformer <c>classification/models.py</c>):
/// Meta-SpikeFormer's layout (<see cref="MetaSpikeFormer"/>) with every convolution and the head quantized by LSQ
/// (<see cref="LsqConv2d"/>, <see cref="LsqConv1d"/>, <see cref="LsqLinear"/>), QSD's stateless multi-level neuron
/// (<see cref="Multispike"/>, and <c>Multispike_att</c> after the attention) in place of the LIF, an attention scale of
/// 0.25, and learnable layer scales on the transformer blocks' residual branches (1e-6 at the start).
/// </summary>
/// <remarks>
/// With <c>weightBits</c> 32 the same model keeps float convolutions and head (PyTorch's <c>nn.Conv2d</c>,
/// <c>nn.Conv1d</c>, <c>nn.Linear</c>), everything else equal: the float twin the quantized model is compared with.
/// The official model runs one time step (<c>self.T = 1</c>); its neuron carries no state, so more steps of the same
/// image would repeat the same output.
/// </remarks>
public static class QsdTransformer
{
    /// <summary>The QSD-Transformer's initial layer scale.</summary>
    public const float LayerScaleInit = 1e-6f;

    /// <summary>
    /// The layers of a QSD-Transformer whose weights are stored in <paramref name="weightBits"/> bits: 4 or 8 for LSQ,
    /// 32 for the float twin.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="weightBits"/> is not 4, 8 or 32.</exception>
    public static MetaSpikeFormerLayers Layers(int weightBits)
    {
        if (weightBits is not (4 or 8 or 32))
        {
            throw new ArgumentOutOfRangeException(nameof(weightBits), weightBits, $"A QSD-Transformer's weights are 4- or 8-bit (LSQ) or 32-bit (float); got {weightBits}.");
        }
        var neurons = new MetaSpikeFormerLayers
        {
            Neuron = static role => role == MetaSpikeFormerNeuronRole.AttentionOutput ? Multispike.Attention() : new Multispike(),
            AttentionScale = 0.25f,
            LayerScale = true,
            LayerScaleInit = LayerScaleInit,
        };
        if (weightBits == 32) return neurons;
        return neurons with
        {
            Conv2d = spec =>
            {
                spec.Validate();
                return new LsqConv2d(spec.InChannels, spec.OutChannels, spec.KernelSize, spec.Stride, spec.Padding,
                    groups: spec.Depthwise ? spec.InChannels : 1, bias: spec.Bias, bits: weightBits);
            },
            Conv1d = (inChannels, outChannels, bias) => new LsqConv1d(inChannels, outChannels, bias, weightBits),
            Linear = (inFeatures, outFeatures) => Head(inFeatures, outFeatures, weightBits),
        };
    }

    /// <summary>A QSD-Transformer of the sizes in <paramref name="config"/> with weights in <paramref name="weightBits"/> bits (4, 8 or 32).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="weightBits"/> is not 4, 8 or 32.</exception>
    /// <exception cref="ArgumentException">A size of the configuration is out of range.</exception>
    public static MetaSpikeFormer Create(MetaSpikeFormerConfig config, int weightBits) => new(config, Layers(weightBits));

    // The official _init_weights reaches LinearLSQ too (an nn.Linear): N(0, 0.02²) weights (timm's cut at ±2 never binds), zero bias.
    private static LsqLinear Head(int inFeatures, int outFeatures, int bits)
    {
        var head = new LsqLinear(inFeatures, outFeatures, bias: true, bits);
        ModelSeed.Shared.FillNormal(head.Weight.Value, 0f, 0.02f);
        head.Bias!.Value.Fill(0f);
        return head;
    }
}
