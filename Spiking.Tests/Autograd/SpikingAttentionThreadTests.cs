using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Autograd;

[Collection("Parallelism")]
public sealed class SpikingAttentionThreadTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void One_and_four_threads_give_the_same_bits(bool causal)
    {
        // Heads of 49 × 49 × 70 are big enough for the per-head loop, the popcount and the SGEMM to go parallel.
        var c = new SpikingAttentionCase(3, 2, 49, 70, 0.2, 5);
        float[] q = c.Bits(1), k = c.Bits(2), v = c.Bits(3), g = c.Normal(4);
        float[] qn = c.Normal(5), kn = c.Normal(6), vn = c.Normal(7);
        int saved = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = 1;
            var one = Run();
            Parallelism.MaxThreads = 4;
            var four = Run();
            for (int i = 0; i < one.Length; i++) Reference.AssertBitwise(one[i], four[i], $"result {i}");
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }

        float[][] Run()
        {
            bool[] all = [true, true, true];
            var (spikes, spikeOutput) = SpikingAttentionTests.SpikeGradients(q, k, v, g, c, all, causal);
            var (dense, denseOutput) = SpikingAttentionTests.DenseGradients(qn, kn, vn, g, c, all, causal);
            return [spikeOutput, spikes[0]!, spikes[1]!, spikes[2]!, denseOutput, dense[0]!, dense[1]!, dense[2]!];
        }
    }
}
