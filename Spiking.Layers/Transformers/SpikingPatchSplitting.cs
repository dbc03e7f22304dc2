using System;
using Spiking.Autograd;
using Spiking.Autograd.Surrogates;

namespace Spiking.Layers;

/// <summary>
/// Spikformer's spiking patch splitting (SPS): four conv + batch norm + LIF stages that widen the channels to
/// D/8, D/4, D/2 and D, the last two followed by Spikformer's 3×3 max pooling at stride 2 with padding 1, then the relative position embedding (a conv +
/// batch norm + LIF whose spikes are added to the features), giving tokens <c>[T, B, (H/4)·(W/4), D]</c>. The
/// sum of two spike maps is a dense value in {0, 1, 2}, as in the paper. Children carry Spikformer's names
/// (<c>proj_conv</c>, <c>proj_bn</c>, …, <c>rpe_conv</c>, <c>rpe_bn</c>, <c>rpe_lif</c>).
/// </summary>
public sealed class SpikingPatchSplitting : Module
{
    private readonly Module[] _stages;
    private readonly Conv2d _rpeConv;
    private readonly BatchNorm2d _rpeBn;
    private readonly SpikingNeuron _rpeLif;

    /// <summary>Patch splitting from <paramref name="inChannels"/> image channels to <paramref name="dim"/>-wide tokens.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dim"/> is not a positive multiple of 8.</exception>
    public SpikingPatchSplitting(int inChannels, int dim)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inChannels);
        if (dim <= 0 || dim % 8 != 0) throw new ArgumentOutOfRangeException(nameof(dim), dim, "SPS needs a positive embedding width divisible by 8.");
        Dim = dim;
        int[] widths = [inChannels, dim / 8, dim / 4, dim / 2, dim];
        var stages = new System.Collections.Generic.List<Module>();
        for (int i = 0; i < 4; i++)
        {
            string suffix = i == 0 ? "" : i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            stages.Add(RegisterModule("proj_conv" + suffix, new Conv2d(widths[i], widths[i + 1], 3, padding: 1, bias: false)));
            stages.Add(RegisterModule("proj_bn" + suffix, new BatchNorm2d(widths[i + 1])));
            stages.Add(RegisterModule("proj_lif" + suffix, Neuron()));
            if (i >= 2) stages.Add(RegisterModule("maxpool" + suffix, new MaxPool2d(3, stride: 2, padding: 1)));
        }
        _stages = [.. stages];
        _rpeConv = RegisterModule("rpe_conv", new Conv2d(dim, dim, 3, padding: 1, bias: false));
        _rpeBn = RegisterModule("rpe_bn", new BatchNorm2d(dim));
        _rpeLif = RegisterModule("rpe_lif", Neuron());
    }

    /// <summary>The token width D.</summary>
    public int Dim { get; }

    /// <summary>Spikformer's neuron: LIF with τ = 2, threshold 1, hard reset to 0, detached reset, Sigmoid(4) surrogate.</summary>
    internal static LeakyIntegrateAndFire Neuron(float threshold = 1f) =>
        new(tau: 2.0, decayInput: true, vThreshold: threshold, vReset: 0f, detachReset: true, new Sigmoid(4.0));

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not <c>[T, B, C, H, W]</c> with H and W divisible by 4.</exception>
    public override Variable Forward(Variable input)
    {
        CheckImages(input, "SPS");
        var x = input;
        foreach (var stage in _stages) x = stage.Forward(x);
        var rpe = _rpeLif.Forward(_rpeBn.Forward(_rpeConv.Forward(x)));
        return ToTokens(Functional.Add(Functional.SpikesToDense(x), Functional.SpikesToDense(rpe)));
    }

    /// <summary>Throws unless <paramref name="input"/> is images <c>[T, B, C, H, W]</c> with H and W divisible by 4.</summary>
    internal static void CheckImages(Variable input, string layer)
    {
        ArgumentNullException.ThrowIfNull(input);
        var shape = input.Shape;
        if (shape.Rank != 5 || shape[3] % 4 != 0 || shape[4] % 4 != 0)
        {
            throw new ArgumentException($"{layer} needs images [T, B, C, H, W] with H and W divisible by 4; the input has shape {shape}.", nameof(input));
        }
    }

    /// <summary>Dense maps <c>[T, B, D, H, W]</c> → tokens <c>[T, B, H·W, D]</c>.</summary>
    internal static Variable ToTokens(Variable maps)
    {
        var s = maps.Shape;
        var flat = Functional.Reshape(maps, s[0] * s[1], s[2], s[3] * s[4], 1);
        var tokens = Functional.SwapMiddleAxes(flat);
        return Functional.Reshape(tokens, s[0], s[1], s[3] * s[4], s[2]);
    }
}
