using System.Runtime.Intrinsics;
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

    /// <summary>
    /// x86 AVX-512BW <c>vpmaddubsw</c> (u8 × s8, two products a lane summed into int16) at 512 bits, the int16 sums
    /// folded into int32 by <c>vpmaddwd</c> before they can saturate; for counts, when no pair of products can
    /// saturate (<c>2·max count·max |code| ≤ 32767</c>, e.g. counts ≤ 127 with 8-bit codes), else the portable path.
    /// Spikes use the portable path. .NET 10 has no 512-bit VNNI, and on AMD Zen 5 this doubles the 256-bit VNNI rate.
    /// </summary>
    PairSums,
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
        IntegerKernelPath.PairSums => Avx512BW.IsSupported && Vector512.IsHardwareAccelerated,
        _ => false,
    };

    /// <summary>
    /// The fastest supported path as measured (docs/INTEGER_INFERENCE.md): the 512-bit pair sums where AVX-512BW runs,
    /// else the AVX-VNNI dot product, else portable, else scalar.
    /// </summary>
    public static IntegerKernelPath Best =>
        IsSupported(IntegerKernelPath.PairSums) ? IntegerKernelPath.PairSums :
        IsSupported(IntegerKernelPath.DotProduct) ? IntegerKernelPath.DotProduct :
        IsSupported(IntegerKernelPath.Portable) ? IntegerKernelPath.Portable : IntegerKernelPath.Scalar;
}
