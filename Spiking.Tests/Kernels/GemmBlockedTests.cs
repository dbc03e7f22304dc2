using System;
using System.Runtime.Intrinsics;
using Spiking.Tensors.Kernels;
using Xunit;

namespace Spiking.Tests.Kernels;

/// <summary>
/// The blocked driver at every vector width, whatever the hardware, on both of its paths (compute items packing
/// B themselves for few rows, a packing phase for many), and with packing buffers small enough to force every
/// super-block loop: the super-blocks only regroup work, so they must not change a bit.
/// </summary>
public sealed class GemmBlockedTests
{
    [Theory]
    [InlineData(128, false, false, 150)]
    [InlineData(128, true, true, 300)]
    [InlineData(256, false, true, 150)]
    [InlineData(256, true, false, 150)]
    [InlineData(256, false, false, 300)]
    [InlineData(256, false, true, 300)]
    [InlineData(512, false, false, 300)]
    [InlineData(512, true, true, 150)]
    public void Every_width_and_super_blocking_gives_the_same_bits(int width, bool transposeA, bool transposeB, int m)
    {
        const int n = 140, k = 600;
        var p = new ProductCase(m, k, n, 0, width);
        var a = p.Normal(m * k, 1);
        var b = p.Normal(k * n, 2);
        var c0 = p.Normal(m * n, 3);

        var whole = Run(width, a, transposeA, b, transposeB, c0, m, n, k, GemmPlan.PackCapacity);
        foreach (int capacity in new[] { 1, 40_000 })
        {
            Assert.Equal(whole, Run(width, a, transposeA, b, transposeB, c0, m, n, k, capacity));
        }

        var expected = Reference.MatMul(a, transposeA, b, transposeB, m, n, k);
        var scale = Reference.MatMul(Array.ConvertAll(a, Math.Abs), transposeA, Array.ConvertAll(b, Math.Abs), transposeB, m, n, k);
        for (int i = 0; i < expected.Length; i++)
        {
            expected[i] = 2 * expected[i] + c0[i];
            scale[i] = 2 * scale[i] + Math.Abs(c0[i]);
        }
        Reference.AssertClose(expected, whole, scale, 1e-5, 1e-6, $"width {width}");
    }

    /// <summary>C = c0 + 2·op(A)·op(B), once overwriting and once accumulating.</summary>
    private static float[] Run(int width, float[] a, bool ta, float[] b, bool tb, float[] c0, int m, int n, int k, int capacity)
    {
        var c = (float[])c0.Clone();
        var product = new float[m * n];
        Multiply(width, a, ta, b, tb, product, m, n, k, accumulate: false, capacity);
        Multiply(width, a, ta, b, tb, c, m, n, k, accumulate: true, capacity);
        for (int i = 0; i < c.Length; i++) c[i] += product[i];
        return c;
    }

    private static void Multiply(int width, float[] a, bool ta, float[] b, bool tb, float[] c, int m, int n, int k, bool accumulate, int capacity)
    {
        switch (width)
        {
            case 128: GemmBlocked.Run<Simd128, Vector128<float>>(a, ta, b, tb, c, m, n, k, accumulate, capacity); break;
            case 256: GemmBlocked.Run<Simd256, Vector256<float>>(a, ta, b, tb, c, m, n, k, accumulate, capacity); break;
            default: GemmBlocked.Run<Simd512, Vector512<float>>(a, ta, b, tb, c, m, n, k, accumulate, capacity); break;
        }
    }
}
