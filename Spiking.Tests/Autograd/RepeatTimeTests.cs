using System;
using Spiking.Autograd;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Autograd;

public sealed class RepeatTimeTests
{
    [Theory]
    [InlineData(1, 3)]
    [InlineData(4, 5)]
    public void Repeats_the_step_and_sums_the_gradient_over_time(int steps, int width)
    {
        var values = new float[2 * width];
        for (int i = 0; i < values.Length; i++) values[i] = i * 0.5f - 1f;
        using var x = Variable.Parameter(Tensor.FromArray(values, 1, 2, width));
        using var y = Functional.RepeatTime(x, steps);
        Assert.Equal(new Shape(steps, 2, width), y.Shape);
        var v = y.Dense.AsReadOnlySpan();
        for (int t = 0; t < steps; t++) Assert.True(v.Slice(t * values.Length, values.Length).SequenceEqual(values));
        GradAssert.Passes(p => Functional.RepeatTime(p[0], steps) * Functional.RepeatTime(p[0], steps), $"repeat {steps}",
            Tensor.FromArray(values, 1, 2, width));
    }

    [Fact]
    public void A_leading_axis_other_than_one_is_rejected_with_the_shape()
    {
        using var x = Variable.Constant(Tensor.Zeros(2, 3));
        var e = Assert.Throws<ArgumentException>(() => Functional.RepeatTime(x, 4));
        Assert.Contains("[2, 3]", e.Message, StringComparison.Ordinal);
        using var one = Variable.Constant(Tensor.Zeros(1, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => Functional.RepeatTime(one, 0));
    }
}
