using Spiking.Tensors;
using Spiking.Tensors.Kernels;
using Xunit;

namespace Spiking.Tests.Kernels;

[Collection("Parallelism")]
public sealed class SpikePopcountThreadTests
{
    [Theory]
    [InlineData(301, 999, 257)]
    [InlineData(77, 64, 300)]
    public void One_and_two_threads_give_the_same_counts(int m, int d, int n)
    {
        using var a = new SpikeCase(m, d, 0.2, 3).Create();
        using var b = new SpikeCase(n, d, 0.2, 4).Create();
        int saved = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = 1;
            var one = SpikePopcount.AndPopcount(a, b);
            Parallelism.MaxThreads = 2;
            var two = SpikePopcount.AndPopcount(a, b);
            Assert.Equal(one, two);
            var reference = new int[m * n];
            SpikePopcount.AndPopcountReference(a.Words, m, b.Words, n, a.WordsPerRow, reference);
            Assert.Equal(reference, two);
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }
}
