using System;
using Spiking.Autograd;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Layers;

/// <summary>
/// Multi-step pointwise 1-D convolution, PyTorch's <c>nn.Conv1d(in, out, kernel_size=1)</c> under SpikingJelly's
/// multi-step wrapper: <c>[T, B, in, L]</c> gives <c>[T, B, out, L]</c> with <c>y[o, l] = Σ_c W[o, c, 0]·x[c, l] + b[o]</c>,
/// channel-major as the Meta-SpikeFormer MLP runs it on the token axis. State dict: <c>weight [out, in, 1]</c> and
/// <c>bias [out]</c>. It runs as a 1×1 <see cref="Functional.Conv2d"/> on <c>[T·B, in, 1, L]</c> (a view), so spike
/// input keeps its bits and takes the spike kernel.
/// </summary>
public sealed class PointwiseConv1d : Module, IOperationCounter
{
    private readonly TransposedWeightCache _cache = new();

    /// <summary>A convolution from <paramref name="inChannels"/> to <paramref name="outChannels"/> channels, initialised as PyTorch's (fan-in = in).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A channel count is not positive.</exception>
    public PointwiseConv1d(int inChannels, int outChannels, bool bias = true, PhiloxGenerator? generator = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outChannels);
        (InChannels, OutChannels) = (inChannels, outChannels);
        generator ??= ModelSeed.Shared;
        Weight = RegisterParameter("weight", Tensor.Empty(outChannels, inChannels, 1));
        Initialization.FanInUniform(Weight.Value, inChannels, generator);
        if (bias)
        {
            Bias = RegisterParameter("bias", Tensor.Empty(outChannels));
            Initialization.FanInUniform(Bias.Value, inChannels, generator);
        }
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>The weight <c>[out, in, 1]</c>.</summary>
    public Parameter Weight { get; }

    /// <summary>The bias <c>[out]</c>, or null.</summary>
    public Parameter? Bias { get; }

    /// <inheritdoc/>
    public OperationCounts Operations { get; } = new();

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not <c>[T, B, in, L]</c>.</exception>
    public override Variable Forward(Variable input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var s = input.Shape;
        if (s.Rank != 4 || s[2] != InChannels)
        {
            throw new ArgumentException($"PointwiseConv1d({InChannels}→{OutChannels}) needs an input of [T, B, {InChannels}, L]; it has shape {s}.", nameof(input));
        }
        int t = s[0], b = s[1], length = s[3];
        var weight = Functional.Reshape(Weight, OutChannels, InChannels, 1, 1);
        var y = Functional.Conv2d(Functional.Reshape(input, t * b, InChannels, 1, length), weight, Bias?.Variable, cache: _cache);
        if (Operations.Enabled)
        {
            if (input.Spikes is { } spikes) Operations.AddSynaptic(spikes.PopCount() * OutChannels);
            else Operations.AddMultiplyAccumulate((long)t * b * length * InChannels * OutChannels);
        }
        return Functional.Reshape(y, t, b, OutChannels, length);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) _cache.Dispose();
        base.Dispose(disposing);
    }
}
