using Spiking.Autograd;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Autograd;

[Collection("Parallelism")]
public sealed class ConvThreadTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void One_and_four_threads_give_the_same_bits(bool spikes)
    {
        var c = new ConvCase(13, 6, 12, 11, 5, 3, 3, 1, 1, 21);
        int saved = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = 1;
            var one = Run(c, spikes);
            Parallelism.MaxThreads = 4;
            var four = Run(c, spikes);
            for (int i = 0; i < one.Length; i++) Reference.AssertBitwise(one[i], four[i], $"result {i}");
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }

    private static float[][] Run(ConvCase c, bool spikes)
    {
        var bits = c.Bits(0.3);
        using var u = Variable.Parameter(Tensor.FromArray(spikes ? ShapeOpTests.Shifted(bits) : c.Normal(bits.Length, 1), c.N, c.C, c.H, c.W));
        using var x = spikes ? SpikeSourceNode.Apply(u) : null;
        using var w = Variable.Parameter(Tensor.FromArray(c.Normal(c.O * c.C * c.Kh * c.Kw, 2), c.O, c.C, c.Kh, c.Kw));
        using var b = Variable.Parameter(Tensor.FromArray(c.Normal(c.O, 3), c.O));
        using var y = Functional.Conv2d(x ?? u, w, b, c.Stride, c.Padding);
        using var pooled = Functional.MaxPool2d(y, 2);
        using var avg = Functional.AvgPool2d(y, 3, 2);
        var result = new[] { y.Dense.ToArray(), pooled.Dense.ToArray(), avg.Dense.ToArray() };
        using (var seed = Tensor.FromArray(c.Normal(c.N * c.O * c.Ho * c.Wo, 4), c.N, c.O, c.Ho, c.Wo)) y.Backward(seed);
        return [.. result, u.Grad!.ToArray(), w.Grad!.ToArray(), b.Grad!.ToArray()];
    }
}
