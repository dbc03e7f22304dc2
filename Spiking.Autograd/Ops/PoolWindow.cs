using System;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd;

/// <summary>The argument checks and window geometry shared by the 2-D pooling ops.</summary>
internal static class PoolWindow
{
    /// <summary>
    /// The window over the <c>N·C</c> planes of <paramref name="x"/> <c>[N, C, H, W]</c>: no padding, floor mode,
    /// stride defaulting to the kernel.
    /// </summary>
    /// <exception cref="ArgumentException">x is not rank 4, the kernel or stride is below 1, or the kernel is larger than the input.</exception>
    public static ConvGeometry Of(Shape x, int kernel, int? stride, string op)
    {
        int s = stride ?? kernel;
        if (kernel < 1) throw new ArgumentOutOfRangeException(nameof(kernel), kernel, $"{op} needs kernel >= 1; it is {kernel}.");
        if (s < 1) throw new ArgumentOutOfRangeException(nameof(stride), s, $"{op} needs stride >= 1; it is {s}.");
        if (x.Rank != 4) throw new ArgumentException($"{op} needs 'x' of shape [N, C, H, W]; it has shape {x}. Fold a time axis into N first.", nameof(x));
        if (x[2] < kernel || x[3] < kernel)
        {
            throw new ArgumentException($"{op}: the {kernel}x{kernel} window does not fit 'x' of shape {x}; H and W must be at least {kernel}.", nameof(kernel));
        }
        return new ConvGeometry(x[0] * x[1], x[2], x[3], kernel, kernel, s, 0);
    }
}
