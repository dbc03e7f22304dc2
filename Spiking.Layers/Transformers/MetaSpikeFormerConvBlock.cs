using System;
using Spiking.Autograd;

namespace Spiking.Layers;

/// <summary>
/// Meta-SpikeFormer's conv-based block (<c>MS_ConvBlock</c>, Spike-driven Transformer V2) for the early stages,
/// over membrane-level maps <c>[T, B, C, H, W]</c> with membrane shortcuts: <c>x = x + SepConv(x)</c>
/// (<c>Conv</c>, a <see cref="SpikingSeparableConv"/>), then the channel MLP <c>x = x + bn2(conv2(lif2(bn1(conv1(lif1(x))))))</c>
/// with <c>conv1</c> C → r·C and <c>conv2</c> r·C → C. The output is dense.
/// </summary>
/// <remarks>
/// The channel MLP's convolutions are 3×3 with padding 1 and no bias, as in the reference code (the paper's text
/// calls it a channel MLP, which 1×1 convolutions would be).
/// </remarks>
public sealed class MetaSpikeFormerConvBlock : Module
{
    private readonly SpikingSeparableConv _sepConv;
    private readonly Module _lif1, _lif2, _conv1, _conv2;
    private readonly BatchNorm2d _bn1, _bn2;

    /// <summary>
    /// A block of <paramref name="dim"/> channels, channel-MLP ratio <paramref name="mlpRatio"/> and a separable
    /// convolution with a <paramref name="kernelSize"/>×<paramref name="kernelSize"/> spatial filter (V2: 4 and 7), its
    /// convolutions and neurons from <paramref name="layers"/> (default Meta-SpikeFormer V2's: float convolutions, LIF).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive or the kernel size is even.</exception>
    public MetaSpikeFormerConvBlock(int dim, int mlpRatio = 4, int kernelSize = 7, MetaSpikeFormerLayers? layers = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(mlpRatio);
        layers ??= MetaSpikeFormerLayers.Default;
        Dim = dim;
        _sepConv = RegisterModule("Conv", new SpikingSeparableConv(dim, 2, kernelSize, layers));
        _lif1 = RegisterModule("lif1", layers.Neuron(MetaSpikeFormerNeuronRole.Ordinary));
        _conv1 = RegisterModule("conv1", layers.Conv2d(new Conv2dSpec(dim, dim * mlpRatio, 3, Padding: 1)));
        _bn1 = RegisterModule("bn1", new BatchNorm2d(dim * mlpRatio));
        _lif2 = RegisterModule("lif2", layers.Neuron(MetaSpikeFormerNeuronRole.Ordinary));
        _conv2 = RegisterModule("conv2", layers.Conv2d(new Conv2dSpec(dim * mlpRatio, dim, 3, Padding: 1)));
        _bn2 = RegisterModule("bn2", new BatchNorm2d(dim));
    }

    /// <summary>The channel count C of the input and output.</summary>
    public int Dim { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not <c>[T, B, C, H, W]</c>.</exception>
    public override Variable Forward(Variable input)
    {
        CheckMaps(input, Dim, nameof(MetaSpikeFormerConvBlock));
        var dense = input.IsSpikes ? Functional.SpikesToDense(input) : input;
        var x = Functional.Add(dense, _sepConv.Forward(dense));
        var hidden = _lif2.Forward(_bn1.Forward(_conv1.Forward(_lif1.Forward(x))));
        return Functional.Add(x, _bn2.Forward(_conv2.Forward(hidden)));
    }

    internal static void CheckMaps(Variable input, int channels, string layer)
    {
        ArgumentNullException.ThrowIfNull(input);
        var s = input.Shape;
        if (s.Rank != 5 || s[2] != channels)
        {
            throw new ArgumentException($"{layer} needs maps [T, B, {channels}, H, W]; the input has shape {s}.", nameof(input));
        }
    }
}
