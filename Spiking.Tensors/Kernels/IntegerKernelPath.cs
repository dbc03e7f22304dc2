using System.Runtime.Intrinsics.X86;

namespace Spiking.Tensors.Kernels;

/// <summary>Which instructions an integer kernel (<see cref="QuantizedLinearKernel"/>) computes with. Every path gives the same bits.</summary>
public enum IntegerKernelPath
{
    /// <summary>Plain scalar loops over the unpacked codes: the reference (<see cref="QuantizedReference"/>).</summary>
    Scalar,

    /// <summary>Vector128/256/512 int16 multiply-adds at the widest accelerated width: SSE2, AVX2, AVX-512 or ARM NEON.</summary>
    Portable,

    /// <summary>x86 AVX-VNNI <c>vpdpbusd</c> (u8 × s8, four products a lane summed into int32) for counts; spikes use the portable path.</summary>
    DotProduct,
}

/// <summary>Which <see cref="IntegerKernelPath"/>s this machine runs.</summary>
public static class IntegerKernelPaths
{
    /// <summary>True when <paramref name="path"/> runs here: scalar always, portable with any vector acceleration, the dot product with AVX-VNNI.</summary>
    public static bool IsSupported(IntegerKernelPath path) => path switch
    {
        IntegerKernelPath.Scalar => true,
        IntegerKernelPath.Portable => SimdWidth.Bits > 0,
        IntegerKernelPath.DotProduct => AvxVnni.IsSupported,
        _ => false,
    };

    /// <summary>The fastest supported path: the dot product where AVX-VNNI exists, else portable, else scalar.</summary>
    public static IntegerKernelPath Best =>
        IsSupported(IntegerKernelPath.DotProduct) ? IntegerKernelPath.DotProduct :
        IsSupported(IntegerKernelPath.Portable) ? IntegerKernelPath.Portable : IntegerKernelPath.Scalar;
}
