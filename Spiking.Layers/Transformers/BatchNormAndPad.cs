using System;
using Spiking.Autograd;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// RepVGG's <c>BNAndPadLayer</c> as Meta-SpikeFormer's <see cref="RepConv"/> uses it: a batch norm (child <c>bn</c>, so
/// its entries are <c>bn.weight</c>, <c>bn.running_mean</c>, …) over <c>[T, B, C, H, W]</c>, then a border of
/// <see cref="Padding"/> pixels filled with the norm's response to zero, <c>β − μ·γ/√(σ² + ε)</c> per channel from
/// the running statistics, so that a following convolution without padding sees what it would see had the zero
/// padding come before the norm: the form that lets <see cref="RepConv.Fuse"/> fold the whole branch into one 3×3
/// convolution.
/// </summary>
/// <remarks>
/// As in the reference code, the border takes γ and β detached (no gradient reaches them through it) and the running
/// statistics as they stand after this call's update, in training as in evaluation.
/// </remarks>
public sealed class BatchNormAndPad : Module
{
    private readonly BatchNorm2d _bn;

    /// <summary>A norm over <paramref name="channels"/> channels, then a border of <paramref name="padding"/> pixels.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The channel count is not positive or the padding is negative.</exception>
    public BatchNormAndPad(int channels, int padding = 1, double eps = 1e-5, double momentum = 0.1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        _bn = RegisterModule("bn", new BatchNorm2d(channels, eps, momentum));
        Padding = padding;
    }

    /// <summary>The border's width on each side.</summary>
    public int Padding { get; }

    /// <summary>The batch norm.</summary>
    public BatchNorm2d Norm => _bn;

    /// <summary>The norm's response to zero input per channel, <c>β − μ·γ/√(σ² + ε)</c>, from its current running statistics (host values).</summary>
    public Tensor ZeroResponse()
    {
        var values = Tensor.Empty(_bn.Channels);
        using var mean = _bn.RunningMean.To(Device.Cpu);
        using var variance = _bn.RunningVar.To(Device.Cpu);
        using var gamma = _bn.Weight.Value.To(Device.Cpu);
        using var beta = _bn.Bias.Value.To(Device.Cpu);
        ReadOnlySpan<float> m = mean.AsReadOnlySpan(), v = variance.AsReadOnlySpan(), g = gamma.AsReadOnlySpan(), b = beta.AsReadOnlySpan();
        var destination = values.AsSpan();
        for (int c = 0; c < destination.Length; c++) destination[c] = (float)(b[c] - m[c] * (double)g[c] / Math.Sqrt(v[c] + _bn.Eps));
        return values;
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not <c>[T, B, C, H, W]</c> with the norm's channels.</exception>
    public override Variable Forward(Variable input)
    {
        var normed = _bn.Forward(input);
        if (Padding == 0) return normed;
        var s = normed.Shape;
        using var border = ZeroResponse();
        var padded = Functional.Pad2d(Functional.Reshape(normed, s[0] * s[1], s[2], s[3], s[4]), Padding, border);
        var p = padded.Shape;
        return Functional.Reshape(padded, s[0], s[1], p[1], p[2], p[3]);
    }
}
