using System;

namespace Spiking.Layers;

/// <summary>
/// What a Meta-SpikeFormer class asks <see cref="MetaSpikeFormerLayers.Conv2d"/> for: a square-kernel 2-D convolution
/// from <paramref name="InChannels"/> to <paramref name="OutChannels"/> maps, as PyTorch's
/// <c>nn.Conv2d(in, out, kernel, stride, padding, groups=1 or in, bias)</c>. The module it builds takes
/// <c>[T, B, in, H, W]</c> and gives <c>[T, B, out, Ho, Wo]</c>, and holds <c>weight</c> (<c>[out, in, k, k]</c>, or
/// <c>[out, 1, k, k]</c> when depthwise) and <c>bias</c> when asked.
/// </summary>
/// <param name="InChannels">Input channels.</param>
/// <param name="OutChannels">Output channels.</param>
/// <param name="KernelSize">The kernel's height and width.</param>
/// <param name="Stride">The stride.</param>
/// <param name="Padding">The zero padding on each side.</param>
/// <param name="Depthwise">One filter per channel (<c>groups = in</c>; then in = out); else a full convolution.</param>
/// <param name="Bias">Whether the convolution has a bias.</param>
public readonly record struct Conv2dSpec(int InChannels, int OutChannels, int KernelSize, int Stride = 1, int Padding = 0, bool Depthwise = false, bool Bias = false)
{
    /// <summary>Throws unless the sizes are positive, the padding non-negative and a depthwise convolution keeps its channels.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(InChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(OutChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(KernelSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Stride);
        ArgumentOutOfRangeException.ThrowIfNegative(Padding);
        if (Depthwise && InChannels != OutChannels)
        {
            throw new ArgumentOutOfRangeException(nameof(OutChannels), OutChannels, $"A depthwise convolution keeps its {InChannels} channels; {OutChannels} output channels were asked for.");
        }
    }
}
