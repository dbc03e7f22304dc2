using System;
using Spiking.Autograd;

namespace Spiking.Layers;

/// <summary>
/// Meta-SpikeFormer's spiking inverted separable convolution (<c>SepConv</c>, after MobileNetV2) over
/// membrane-level maps <c>[T, B, C, H, W]</c>: <c>lif1</c> → <c>pwconv1</c> (1×1, C → 2C) + <c>bn1</c> → <c>lif2</c>
/// → <c>dwconv</c> (depthwise k×k, one filter per channel, weight <c>[2C, 1, k, k]</c>, same padding) →
/// <c>pwconv2</c> (1×1, 2C → C) + <c>bn2</c>, no conv bias; the output is dense (membrane level).
/// </summary>
public sealed class SpikingSeparableConv : Module
{
    private readonly Module _lif1, _lif2, _pw1, _pw2, _spatial;
    private readonly BatchNorm2d _bn1, _bn2;

    /// <summary>
    /// A separable convolution of <paramref name="dim"/> channels widened <paramref name="expansion"/> times inside,
    /// with a <paramref name="kernelSize"/>×<paramref name="kernelSize"/> spatial filter (Meta-SpikeFormer: 2 and 7),
    /// its convolutions and neurons from <paramref name="layers"/> (default Meta-SpikeFormer V2's: float convolutions, LIF).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive or the kernel size is even.</exception>
    public SpikingSeparableConv(int dim, int expansion = 2, int kernelSize = 7, MetaSpikeFormerLayers? layers = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dim);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(expansion);
        if (kernelSize <= 0 || kernelSize % 2 == 0) throw new ArgumentOutOfRangeException(nameof(kernelSize), kernelSize, "SepConv needs an odd kernel size so the padding keeps the map size.");
        layers ??= MetaSpikeFormerLayers.Default;
        int wide = dim * expansion;
        Dim = dim;
        _lif1 = RegisterModule("lif1", layers.Neuron(MetaSpikeFormerNeuronRole.Ordinary));
        _pw1 = RegisterModule("pwconv1", layers.Conv2d(new Conv2dSpec(dim, wide, 1)));
        _bn1 = RegisterModule("bn1", new BatchNorm2d(wide));
        _lif2 = RegisterModule("lif2", layers.Neuron(MetaSpikeFormerNeuronRole.Ordinary));
        _spatial = RegisterModule("dwconv", layers.Conv2d(new Conv2dSpec(wide, wide, kernelSize, Padding: kernelSize / 2, Depthwise: true)));
        _pw2 = RegisterModule("pwconv2", layers.Conv2d(new Conv2dSpec(wide, dim, 1)));
        _bn2 = RegisterModule("bn2", new BatchNorm2d(dim));
    }

    /// <summary>The channel count C of the input and output.</summary>
    public int Dim { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not <c>[T, B, C, H, W]</c>.</exception>
    public override Variable Forward(Variable input)
    {
        MetaSpikeFormerConvBlock.CheckMaps(input, Dim, nameof(SpikingSeparableConv));
        var x = _lif1.Forward(input.IsSpikes ? Functional.SpikesToDense(input) : input);
        x = _lif2.Forward(_bn1.Forward(_pw1.Forward(x)));
        return _bn2.Forward(_pw2.Forward(_spatial.Forward(x)));
    }
}
