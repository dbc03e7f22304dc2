using System;
using Spiking.Autograd;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Autograd;

public sealed class SwapMiddleAxesTests
{
    [Theory]
    [InlineData(2, 3, 4, 5)]
    [InlineData(1, 7, 2, 70)]
    [InlineData(3, 1, 4, 64)]
    public void Spikes_swap_as_their_dense_values_and_the_gradient_swaps_back(int a, int p, int q, int d)
    {
        var rng = new Random(a * 1000 + p * 100 + q * 10 + d);
        var bits = new float[a * p * q * d];
        for (int i = 0; i < bits.Length; i++) bits[i] = rng.NextDouble() < 0.4 ? 1f : 0f;
        using var dense = Tensor.FromArray(bits, a, p, q, d);
        using var spikes = Variable.Constant(SpikeTensor.FromBinary(dense));
        using var swapped = Functional.SwapMiddleAxes(spikes);
        Assert.True(swapped.IsSpikes);
        Assert.Equal(new Shape(a, q, p, d), swapped.Shape);
        using var values = swapped.ToDense();
        var v = values.AsReadOnlySpan();
        for (int i = 0; i < a; i++)
            for (int j = 0; j < p; j++)
                for (int k = 0; k < q; k++)
                    for (int c = 0; c < d; c++)
                        Assert.Equal(bits[((i * p + j) * q + k) * d + c], v[((i * q + k) * p + j) * d + c]);
        GradAssert.Passes(x => Functional.SwapMiddleAxes(x[0]) * 2f, $"swap [{a},{p},{q},{d}]", Tensor.FromArray(bits, a, p, q, d));
    }

    [Fact]
    public void Other_ranks_are_rejected_with_their_shape()
    {
        using var x = Variable.Constant(Tensor.Zeros(2, 3, 4));
        var e = Assert.Throws<ArgumentException>(() => Functional.SwapMiddleAxes(x));
        Assert.Contains("[2, 3, 4]", e.Message, StringComparison.Ordinal);
    }
}
