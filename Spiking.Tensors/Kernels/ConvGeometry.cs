using System;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// The shape of a 2-D sliding window over <c>[Channels, Height, Width]</c> planes: kernel size, stride and zero
/// padding, with the output size in PyTorch's floor mode. Convolution and pooling share it.
/// </summary>
internal readonly record struct ConvGeometry(int Channels, int Height, int Width, int KernelHeight, int KernelWidth, int Stride, int Padding)
{
    /// <summary>Output rows: <c>(H + 2p − kh) / stride + 1</c>.</summary>
    public int OutHeight => (Height + 2 * Padding - KernelHeight) / Stride + 1;

    /// <summary>Output columns: <c>(W + 2p − kw) / stride + 1</c>.</summary>
    public int OutWidth => (Width + 2 * Padding - KernelWidth) / Stride + 1;

    /// <summary>Output positions per plane.</summary>
    public int Positions => OutHeight * OutWidth;

    /// <summary>The length of one unrolled patch, <c>C·kh·kw</c>: the inner dimension of the convolution's product.</summary>
    public int Patch => Channels * KernelHeight * KernelWidth;

    /// <summary>Elements per input image, <c>C·H·W</c>.</summary>
    public int ImageSize => Channels * Height * Width;

    /// <summary>
    /// The output columns <c>[lo, hi)</c> whose input column <c>ox·stride − p + offset</c> lies inside the
    /// image; the others read padding.
    /// </summary>
    public (int Lo, int Hi) InsideColumns(int offset)
    {
        int first = Padding - offset;
        int lo = first <= 0 ? 0 : (first + Stride - 1) / Stride;
        int last = Width - 1 + Padding - offset;
        int hi = last < 0 ? 0 : Math.Min(OutWidth, last / Stride + 1);
        return (lo, Math.Max(lo, hi));
    }
}
