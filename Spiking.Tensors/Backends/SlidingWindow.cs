using Spiking.Tensors.Kernels;

namespace Spiking.Tensors.Backends;

/// <summary>
/// A 2-D sliding window over an NCHW batch <c>[Images, Channels, Height, Width]</c> as a kernel of
/// <see cref="ComputeBackend"/> sees it (convolution and pooling): a <c>KernelHeight×KernelWidth</c> window moved by
/// <see cref="Stride"/> over the input with <see cref="Padding"/> on every side, output size in PyTorch's floor mode.
/// </summary>
/// <param name="Images">N.</param>
/// <param name="Channels">C.</param>
/// <param name="Height">H.</param>
/// <param name="Width">W.</param>
/// <param name="KernelHeight">The window's rows.</param>
/// <param name="KernelWidth">The window's columns.</param>
/// <param name="Stride">The step between windows.</param>
/// <param name="Padding">The border on each side: zeros for a convolution, never chosen by max pooling.</param>
public readonly record struct SlidingWindow(int Images, int Channels, int Height, int Width, int KernelHeight, int KernelWidth, int Stride, int Padding)
{
    /// <summary>Output rows: <c>(H + 2p − kh) / stride + 1</c>.</summary>
    public int OutHeight => (Height + 2 * Padding - KernelHeight) / Stride + 1;

    /// <summary>Output columns: <c>(W + 2p − kw) / stride + 1</c>.</summary>
    public int OutWidth => (Width + 2 * Padding - KernelWidth) / Stride + 1;

    /// <summary>Output positions per plane, <c>Ho·Wo</c>.</summary>
    public int Positions => OutHeight * OutWidth;

    /// <summary>The length of one unrolled patch, <c>C·kh·kw</c>.</summary>
    public int Patch => Channels * KernelHeight * KernelWidth;

    /// <summary>The window of one image's convolution (channels kept apart).</summary>
    internal ConvGeometry Convolution => new(Channels, Height, Width, KernelHeight, KernelWidth, Stride, Padding);

    /// <summary>The window of pooling over all <c>N·C</c> planes.</summary>
    internal ConvGeometry Planes => new(Images * Channels, Height, Width, KernelHeight, KernelWidth, Stride, Padding);
}
