using System;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;
using Xunit;

namespace Spiking.Tests.Kernels;

/// <summary><see cref="Gemm.Multiply"/> partitions by shape only, so the thread count never changes a bit.</summary>
[Collection("Parallelism")]
public sealed class GemmThreadingTests
{
    [Theory]
    [InlineData(130, 300, 1100, false, false)]
    [InlineData(130, 300, 1100, true, true)]
    [InlineData(257, 515, 300, false, true)]
    [InlineData(64, 2000, 700, true, false)]
    [InlineData(400, 333, 520, false, false)]
    [InlineData(400, 333, 520, true, true)]
    public void One_and_several_threads_give_bitwise_equal_results(int m, int n, int k, bool transposeA, bool transposeB)
    {
        var p = new ProductCase(m, k, n, 0, 17);
        var a = p.Normal(m * k, 1);
        var b = p.Normal(k * n, 2);
        var c0 = p.Normal(m * n, 3);
        int saved = Parallelism.MaxThreads;
        try
        {
            var expected = Run(1);
            foreach (int threads in new[] { 2, 3 })
            {
                Assert.Equal(expected, Run(threads));
            }
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }

        float[] Run(int threads)
        {
            Parallelism.MaxThreads = threads;
            var c = (float[])c0.Clone();
            Gemm.Multiply(a, transposeA, b, transposeB, c, m, n, k);
            Gemm.Multiply(a, transposeA, b, transposeB, c, m, n, k, accumulate: true);
            return c;
        }
    }
}
