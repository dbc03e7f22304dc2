using System;
using Spiking.Autograd;

namespace Spiking.Layers;

/// <summary>
/// Meta-SpikeFormer (Spike-driven Transformer V2, Yao et al., ICLR 2024; the official
/// <c>Spiking_vit_MetaFormer</c>) over images as current at every step, <c>[T, B, C, H, W]</c>: four stages with
/// the official module names, <c>downsample1_1</c>, <c>ConvBlock1_1.0</c>, <c>downsample1_2</c>, <c>ConvBlock1_2.0</c>
/// (stage 1, <see cref="MetaSpikeFormerConvBlock"/>s at half and then the full first width), <c>downsample2</c>,
/// <c>ConvBlock2_1.0</c>, <c>ConvBlock2_2.0</c> (stage 2), <c>downsample3</c>, <c>block3.N</c> (stage 3,
/// <see cref="MetaSpikeFormerBlock"/>s), <c>downsample4</c>, <c>block4.N</c> (stage 4); then the mean over the tokens,
/// <c>lif</c> and the <c>head</c>, giving one output per step, <c>[T, B, classes]</c> (the official forward returns
/// its mean over T; train on that mean).
/// </summary>
/// <remarks>
/// Every layer comes from a <see cref="MetaSpikeFormerLayers"/>, so the QSD-Transformer builds on these classes with
/// its quantized convolutions and multi-level neuron under the same state-dict paths. The official model repeats
/// one image over its T (<c>self.T = 1</c> in V2); here the caller's encoder does.
/// </remarks>
public sealed class MetaSpikeFormer : Module
{
    private readonly Module[] _features;
    private readonly Module _lif, _head;

    /// <summary>A Meta-SpikeFormer of the sizes in <paramref name="config"/> (default the official 8-384), its layers from <paramref name="layers"/> (default V2's).</summary>
    /// <exception cref="ArgumentException">A size of the configuration is out of range.</exception>
    public MetaSpikeFormer(MetaSpikeFormerConfig? config = null, MetaSpikeFormerLayers? layers = null)
    {
        Config = config ??= new MetaSpikeFormerConfig();
        config.Validate();
        layers ??= MetaSpikeFormerLayers.Default;
        var dims = config.EmbedDims;
        var strides = config.Strides;
        int half = dims[0] / 2;
        _features =
        [
            RegisterModule("downsample1_1", new MetaSpikeFormerDownsampling(config.InChannels, half, 7, strides[0], 3, firstLayer: true, layers)),
            RegisterModule("ConvBlock1_1", ConvBlocks(half, config, layers)),
            RegisterModule("downsample1_2", new MetaSpikeFormerDownsampling(half, dims[0], 3, strides[1], 1, layers: layers)),
            RegisterModule("ConvBlock1_2", ConvBlocks(dims[0], config, layers)),
            RegisterModule("downsample2", new MetaSpikeFormerDownsampling(dims[0], dims[1], 3, strides[2], 1, layers: layers)),
            RegisterModule("ConvBlock2_1", ConvBlocks(dims[1], config, layers)),
            RegisterModule("ConvBlock2_2", ConvBlocks(dims[1], config, layers)),
            RegisterModule("downsample3", new MetaSpikeFormerDownsampling(dims[1], dims[2], 3, strides[3], 1, layers: layers)),
            RegisterModule("block3", Blocks(dims[2], config.Stage3Depth, config, layers)),
            RegisterModule("downsample4", new MetaSpikeFormerDownsampling(dims[2], dims[3], 3, strides[4], 1, layers: layers)),
            RegisterModule("block4", Blocks(dims[3], config.Stage4Depth, config, layers)),
        ];
        _lif = RegisterModule("lif", layers.Neuron(MetaSpikeFormerNeuronRole.Ordinary));
        _head = RegisterModule("head", layers.Linear(dims[3], config.Classes));
    }

    // The official code's one-element ModuleLists: ConvBlock1_1.0, ….
    private static Sequential ConvBlocks(int dim, MetaSpikeFormerConfig config, MetaSpikeFormerLayers layers) =>
        new(new MetaSpikeFormerConvBlock(dim, config.MlpRatio, config.SepConvKernel, layers));

    private static Sequential Blocks(int dim, int depth, MetaSpikeFormerConfig config, MetaSpikeFormerLayers layers)
    {
        var blocks = new Module[depth];
        for (int i = 0; i < depth; i++) blocks[i] = new MetaSpikeFormerBlock(dim, config.Heads, config.MlpRatio, layers);
        return new Sequential(blocks);
    }

    /// <summary>The sizes the model was built with.</summary>
    public MetaSpikeFormerConfig Config { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not <c>[T, B, C, H, W]</c> with the configured channels.</exception>
    public override Variable Forward(Variable input)
    {
        MetaSpikeFormerConvBlock.CheckMaps(input, Config.InChannels, nameof(MetaSpikeFormer));
        var x = input;
        foreach (var stage in _features) x = stage.Forward(x);
        var s = x.Shape;
        var pooled = Functional.Mean(Functional.Reshape(x, s[0], s[1], s[2], s[3] * s[4]), axis: 3);
        return _head.Forward(_lif.Forward(pooled));
    }
}
