using System;
using Spiking.Autograd;

namespace Spiking.Layers;

/// <summary>
/// The Spike-driven Transformer (Yao et al., NeurIPS 2023) at W3 size by default (7×7 tokens of width 64 from
/// 28×28 images, 2 blocks, 4 heads, MLP ratio 4): <c>patch_embed</c> (SDT's SPS), <c>block.0</c>, <c>block.1</c>, … with
/// membrane shortcuts, then the mean over tokens, <c>head_lif</c> and the <c>head</c> Linear, giving one output per
/// time step <c>[T, B, classes]</c> (train on the mean over T). Input: the images as current at every step,
/// <c>[T, B, C, H, W]</c>.
/// </summary>
/// <remarks>
/// The patch splitting is SDT's own (<see cref="SpikeDrivenPatchSplitting"/>), which ends on a batch norm and adds
/// the position embedding to that membrane-level feature, so its tokens are real-valued inputs to the first block's
/// neurons. As in the reference code the head takes the token mean of the membrane-level features before its
/// neuron, so the classifier sees spikes.
/// </remarks>
public sealed class SpikeDrivenTransformer : Module
{
    private readonly SpikeDrivenPatchSplitting _embed;
    private readonly Sequential _blocks;
    private readonly SpikingNeuron _headLif;
    private readonly Linear _head;

    /// <summary>
    /// A Spike-driven Transformer for <paramref name="inChannels"/>-channel images and <paramref name="classes"/>
    /// classes with SDSA <paramref name="variant"/> (SDSA-1 by default, the Spike-driven Transformer's own).
    /// </summary>
    public SpikeDrivenTransformer(int inChannels = 1, int classes = 10, int dim = 64, int depth = 2, int heads = 4, int mlpRatio = 4,
        SdsaVariant variant = SdsaVariant.KeyValueMask)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(depth);
        _embed = RegisterModule("patch_embed", new SpikeDrivenPatchSplitting(inChannels, dim));
        var blocks = new Module[depth];
        for (int i = 0; i < depth; i++) blocks[i] = new SpikeDrivenBlock(dim, heads, mlpRatio, variant);
        _blocks = RegisterModule("block", new Sequential(blocks));
        _headLif = RegisterModule("head_lif", SpikingPatchSplitting.Neuron());
        _head = RegisterModule("head", new Linear(dim, classes));
        Variant = variant;
    }

    /// <summary>The SDSA core of every block.</summary>
    public SdsaVariant Variant { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not <c>[T, B, C, H, W]</c> with H and W divisible by 4.</exception>
    public override Variable Forward(Variable input)
    {
        var tokens = _blocks.Forward(_embed.Forward(input));
        return _head.Forward(_headLif.Forward(Functional.Mean(tokens, axis: 2)));
    }
}
