using Spiking.Autograd.Neurons;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Neurons;

[Collection("Parallelism")]
public sealed class NeuronThreadTests
{
    [Theory]
    [InlineData(LifKind.ParametricLeakyIntegrateAndFire, true, 4, 64, 1000)]
    [InlineData(LifKind.ParametricLeakyIntegrateAndFire, false, 3, 40, 28)]
    [InlineData(LifKind.IntegrateAndFire, true, 8, 64, 512)]
    public void One_and_two_threads_give_the_same_bits(LifKind model, bool hard, int steps, int rows, int rowLength)
    {
        var c = new NeuronCase([steps, rows, rowLength], model, true, hard, false, "ATan", 1f, 0f, 2.0, -0.2, 5);
        var options = c.Options();
        var (x, g) = c.Inputs();
        int saved = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = 1;
            var one = NeuronHarness.Multi(options, c.W, x, g, c.Shape);
            Parallelism.MaxThreads = 2;
            var two = NeuronHarness.Multi(options, c.W, x, g, c.Shape);
            Assert.Equal(one.Words, two.Words);
            Reference.AssertBitwise(one.H, two.H, "h");
            Reference.AssertBitwise(one.V, two.V, "v");
            Reference.AssertBitwise(one.GradX, two.GradX, "dL/dx");
            Reference.AssertBitwise([one.GradW], [two.GradW], "dL/dw");
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }
}
