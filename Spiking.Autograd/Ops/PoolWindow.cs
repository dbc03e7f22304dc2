using System;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd;

/// <summary>The argument checks and window geometry shared by the 2-D pooling ops.</summary>
internal static class PoolWindow
{
    /// <summary>
    /// The window over the <c>N·C</c> planes of <paramref name="x"/> <c>[N, C, H, W]</c>: floor mode, stride
    /// defaulting to the kernel, <paramref name="padding"/> on every side.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// x is not rank 4, the kernel or stride is below 1, the padding is negative or above half the kernel (PyTorch's
    /// limit, which keeps a real element in every window), or the padded input is smaller than the kernel.
    /// </exception>
    public static ConvGeometry Of(Shape x, int kernel, int? stride, int padding, string op)
    {
        int s = stride ?? kernel;
        if (kernel < 1) throw new ArgumentOutOfRangeException(nameof(kernel), kernel, $"{op} needs kernel >= 1; it is {kernel}.");
        if (s < 1) throw new ArgumentOutOfRangeException(nameof(stride), s, $"{op} needs stride >= 1; it is {s}.");
        if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding), padding, $"{op} needs padding >= 0; it is {padding}.");
        if (padding > kernel / 2)
        {
            throw new ArgumentException($"{op} needs padding at most half the kernel; padding is {padding} with kernel {kernel}, so at most {kernel / 2}.", nameof(padding));
        }
        if (x.Rank != 4) throw new ArgumentException($"{op} needs 'x' of shape [N, C, H, W]; it has shape {x}. Fold a time axis into N first.", nameof(x));
        if (x[2] + 2 * padding < kernel || x[3] + 2 * padding < kernel)
        {
            throw new ArgumentException(
                $"{op}: the {kernel}x{kernel} window does not fit 'x' of shape {x} with padding {padding}; H and W must be at least {kernel - 2 * padding}.", nameof(kernel));
        }
        return new ConvGeometry(x[0] * x[1], x[2], x[3], kernel, kernel, s, padding);
    }
}
