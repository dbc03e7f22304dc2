using System;
using Spiking.Tensors;
using Xunit;

// Not Spiking.Tests.Random: that namespace would hide System.Random from the rest of the test project.
namespace Spiking.Tests;

[Collection("Parallelism")]
public sealed class PhiloxThreadTests
{
    [Fact]
    public void The_same_seed_gives_the_same_bits_on_one_or_two_threads()
    {
        var one = Draw(1);
        var two = Draw(2);
        Assert.Equal(one.Uniform, two.Uniform);
        Assert.Equal(one.Normal, two.Normal);
        Assert.Equal(one.Spikes, two.Spikes);
    }

    private static (float[] Uniform, float[] Normal, ulong[] Spikes) Draw(int threads)
    {
        int saved = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = threads;
            var g = new PhiloxGenerator(123, stream: 4);
            var uniform = new float[100_003];
            g.FillUniform(uniform);
            var normal = new float[100_001];
            g.FillNormal(normal, 1f, 2f);
            using var p = Tensor.FromSpan(uniform.AsSpan(0, 300 * 333), new Shape(300, 333));
            using var spikes = g.Bernoulli(p);
            return (uniform, normal, spikes.Words.ToArray());
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }
}
