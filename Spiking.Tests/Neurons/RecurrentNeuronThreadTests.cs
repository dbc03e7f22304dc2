using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Neurons;

/// <summary>QIF, EIF, Izhikevich, ALIF and CubaLIF give the same bits on one thread and on two (the chunks are fixed by the shape).</summary>
[Collection("Parallelism")]
public sealed class RecurrentNeuronThreadTests
{
    public static TheoryData<RecurrentKind> Kinds() => new(RecurrentModels.Kinds);

    [Theory]
    [MemberData(nameof(Kinds))]
    public void One_and_two_threads_give_the_same_bits(RecurrentKind kind)
    {
        // 40 rows of 1000 neurons: four rows per chunk, ten chunks.
        var c = new RecurrentNeuronCase([4, 40, 1000], kind, 2, true, false, "ATan", 1f, -0.1f, 5);
        var model = c.Model();
        var (x, g) = c.Inputs();
        int saved = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = 1;
            var one = RecurrentHarness.Multi(model, x, g, c.Shape);
            Parallelism.MaxThreads = 2;
            var two = RecurrentHarness.Multi(model, x, g, c.Shape);
            Assert.Equal(one.Words, two.Words);
            foreach (var (name, values) in one.Traces) Reference.AssertBitwise(values, two.Traces[name], name);
            Reference.AssertBitwise(one.GradX, two.GradX, "dL/dx");
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }
}
