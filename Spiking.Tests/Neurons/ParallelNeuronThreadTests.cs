using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Neurons;

[Collection("Parallelism")]
public sealed class ParallelNeuronThreadTests
{
    [Theory]
    [InlineData(ParallelKind.Psn, 8, 64, 1000)] // many fire items, 16 backward blocks, a multi-tile SGEMM
    [InlineData(ParallelKind.Masked, 4, 40, 28)]
    [InlineData(ParallelKind.Sliding, 6, 3, 5000)]
    public void One_and_two_threads_give_the_same_bits(ParallelKind kind, int steps, int rows, int rowLength)
    {
        var c = new ParallelNeuronCase([steps, rows, rowLength], kind, 3, 0.5, "ATan", 5);
        var (weight, bias, x, g) = c.Inputs();
        var (one, two) = Twice(() => ParallelNeuronHarness.Fused(c, weight, bias, x, g));
        Assert.Equal(one.Words, two.Words);
        Reference.AssertBitwise(one.H, two.H, "h");
        Reference.AssertBitwise(one.GradX, two.GradX, "dL/dx");
        Reference.AssertBitwise(one.GradWeight, two.GradWeight, "dL/dweight");
        Reference.AssertBitwise(one.GradBias, two.GradBias, "dL/dbias");
    }

    [Fact]
    public void Few_spikes_give_the_same_bits_on_one_and_two_threads()
    {
        var c = new FewSpikeCase([8, 64, 1000], "Sigmoid", 6);
        var (theta, h, d, x, g) = c.Inputs();
        var (one, two) = Twice(() => ParallelNeuronHarness.FewSpike(theta, h, d, c.CreateSurrogate(), x, g, c.Shape));
        Reference.AssertBitwise(one.Output, two.Output, "y");
        Reference.AssertBitwise(one.H, two.H, "u");
        Reference.AssertBitwise(one.Gate, two.Gate, "gate");
        Reference.AssertBitwise(one.GradX, two.GradX, "dL/dx");
    }

    private static (T One, T Two) Twice<T>(System.Func<T> run)
    {
        int saved = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = 1;
            var one = run();
            Parallelism.MaxThreads = 2;
            return (one, run());
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }
}
