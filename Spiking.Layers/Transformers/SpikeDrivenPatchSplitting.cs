using System;
using System.Collections.Generic;
using Spiking.Autograd;

namespace Spiking.Layers;

/// <summary>
/// The Spike-driven Transformer's own patch splitting (<c>MS_SPS</c> in <c>module/sps.py</c> of
/// BICLab/Spike-Driven-Transformer), arranged for the membrane shortcut. Three conv + batch norm + LIF stages widen
/// the channels to D/8, D/4 and D/2, the last followed by a 3×3 max pooling at stride 2 with padding 1; the fourth
/// stage, conv + batch norm to D and the same pooling, stays membrane-level (the feature <c>x_feat</c>). The
/// relative position embedding then reads spikes of it, <c>rpe_bn(rpe_conv(proj_lif3(x_feat)))</c>, and is added to
/// <c>x_feat</c> itself, not to spikes, so the tokens <c>[T, B, (H/4)·(W/4), D]</c> are real-valued.
/// </summary>
/// <remarks>
/// The pooling follows the reference code's <c>pooling_stat = "0011"</c> (its CIFAR setting): pooling after the
/// third and fourth stages takes 28×28 images to 7×7 tokens, as W3 asks. Children carry the reference names
/// (<c>proj_conv</c> … <c>proj_conv3</c>, <c>proj_bn</c> … <c>proj_bn3</c>, <c>proj_lif</c> … <c>proj_lif3</c>,
/// <c>maxpool2</c>, <c>maxpool3</c>, <c>rpe_conv</c>, <c>rpe_bn</c>); the reference also builds an <c>rpe_lif</c> and
/// unused pools that its forward never calls, so they are left out (neither holds a state-dict entry).
/// </remarks>
public sealed class SpikeDrivenPatchSplitting : Module
{
    private readonly Module[] _stages;
    private readonly Conv2d _lastConv, _rpeConv;
    private readonly BatchNorm2d _lastBn, _rpeBn;
    private readonly MaxPool2d _lastPool;
    private readonly SpikingNeuron _lastLif;

    /// <summary>Patch splitting from <paramref name="inChannels"/> image channels to <paramref name="dim"/>-wide tokens.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="inChannels"/> is not positive or <paramref name="dim"/> is not a positive multiple of 8.</exception>
    public SpikeDrivenPatchSplitting(int inChannels, int dim)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inChannels);
        if (dim <= 0 || dim % 8 != 0) throw new ArgumentOutOfRangeException(nameof(dim), dim, "SDT's SPS needs a positive embedding width divisible by 8.");
        Dim = dim;
        int[] widths = [inChannels, dim / 8, dim / 4, dim / 2];
        var stages = new List<Module>();
        for (int i = 0; i < 3; i++)
        {
            string suffix = i == 0 ? "" : i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            stages.Add(RegisterModule("proj_conv" + suffix, new Conv2d(widths[i], widths[i + 1], 3, padding: 1, bias: false)));
            stages.Add(RegisterModule("proj_bn" + suffix, new BatchNorm2d(widths[i + 1])));
            stages.Add(RegisterModule("proj_lif" + suffix, SpikingPatchSplitting.Neuron()));
            if (i == 2) stages.Add(RegisterModule("maxpool2", new MaxPool2d(3, stride: 2, padding: 1)));
        }
        _stages = [.. stages];
        _lastConv = RegisterModule("proj_conv3", new Conv2d(dim / 2, dim, 3, padding: 1, bias: false));
        _lastBn = RegisterModule("proj_bn3", new BatchNorm2d(dim));
        _lastPool = RegisterModule("maxpool3", new MaxPool2d(3, stride: 2, padding: 1));
        _lastLif = RegisterModule("proj_lif3", SpikingPatchSplitting.Neuron());
        _rpeConv = RegisterModule("rpe_conv", new Conv2d(dim, dim, 3, padding: 1, bias: false));
        _rpeBn = RegisterModule("rpe_bn", new BatchNorm2d(dim));
    }

    /// <summary>The token width D.</summary>
    public int Dim { get; }

    /// <inheritdoc/>
    /// <remarks>The output is dense: membrane-level features plus the position embedding.</remarks>
    /// <exception cref="ArgumentException">The input is not <c>[T, B, C, H, W]</c> with H and W divisible by 4.</exception>
    public override Variable Forward(Variable input)
    {
        SpikingPatchSplitting.CheckImages(input, "SDT's SPS");
        var x = input;
        foreach (var stage in _stages) x = stage.Forward(x);
        var feature = _lastPool.Forward(_lastBn.Forward(_lastConv.Forward(x)));
        var rpe = _rpeBn.Forward(_rpeConv.Forward(_lastLif.Forward(feature)));
        return SpikingPatchSplitting.ToTokens(Functional.Add(rpe, feature));
    }
}
