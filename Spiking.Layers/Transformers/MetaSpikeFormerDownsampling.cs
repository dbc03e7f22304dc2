using System;
using Spiking.Autograd;

namespace Spiking.Layers;

/// <summary>
/// Meta-SpikeFormer's downsampling (<c>MS_DownSampling</c>) between stages, over <c>[T, B, C, H, W]</c>:
/// <c>encode_lif</c> (absent in the first layer, which takes the image) → <c>encode_conv</c> (k×k, stride, padding,
/// with bias) → <c>encode_bn</c>. The output is dense (membrane level).
/// </summary>
public sealed class MetaSpikeFormerDownsampling : Module
{
    private readonly Module _conv;
    private readonly BatchNorm2d _bn;
    private readonly Module? _lif;

    /// <summary>
    /// A downsampling from <paramref name="inChannels"/> to <paramref name="outChannels"/> maps; the first layer of a
    /// model (<paramref name="firstLayer"/>) has no neuron before its convolution.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range.</exception>
    public MetaSpikeFormerDownsampling(int inChannels, int outChannels, int kernelSize = 3, int stride = 2, int padding = 1, bool firstLayer = false,
        MetaSpikeFormerLayers? layers = null)
    {
        layers ??= MetaSpikeFormerLayers.Default;
        var spec = new Conv2dSpec(inChannels, outChannels, kernelSize, stride, padding, Bias: true);
        spec.Validate();
        (InChannels, OutChannels) = (inChannels, outChannels);
        _conv = RegisterModule("encode_conv", layers.Conv2d(spec));
        _bn = RegisterModule("encode_bn", new BatchNorm2d(outChannels));
        if (!firstLayer) _lif = RegisterModule("encode_lif", layers.Neuron(MetaSpikeFormerNeuronRole.Ordinary));
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not <c>[T, B, C, H, W]</c> with the input channels.</exception>
    public override Variable Forward(Variable input)
    {
        MetaSpikeFormerConvBlock.CheckMaps(input, InChannels, nameof(MetaSpikeFormerDownsampling));
        var x = _lif is null ? input : _lif.Forward(input);
        return _bn.Forward(_conv.Forward(x));
    }
}
