using System;
using System.Linq;
using Spiking.Autograd;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Autograd;

/// <summary>The squared ReLU against <c>max(x, 0)²</c> and <c>2·max(x, 0)</c> computed in double.</summary>
public sealed class ReluSquaredTests
{
    [Fact]
    public void Values_and_gradient_equal_the_double_formula()
    {
        var rng = new Random(3);
        var x = Enumerable.Range(0, 257).Select(_ => (float)(rng.NextDouble() * 6 - 3)).ToArray();
        x[0] = 0;
        var g = Enumerable.Range(0, 257).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        using var input = Variable.Input(Tensor.FromArray(x, 257));
        using var y = Functional.ReluSquared(input);
        using (var gradient = Tensor.FromArray(g, 257)) y.Backward(gradient);
        var values = y.Dense.AsReadOnlySpan();
        var dx = input.Grad!.AsReadOnlySpan();
        for (int i = 0; i < x.Length; i++)
        {
            double positive = Math.Max(x[i], 0.0);
            Assert.Equal(positive * positive, values[i], 1e-6);
            Assert.Equal(2 * positive * g[i], dx[i], 1e-6);
        }
    }

    [Fact]
    public void The_gradient_checker_agrees_away_from_the_kink()
    {
        var x = GradAssert.AwayFromZero([-1.5f, -0.2f, 0.3f, 0.9f, 2.2f, -3f], 0.1f);
        GradAssert.Passes(v => Functional.Sum(Functional.ReluSquared(v[0])), "relu²", Tensor.FromArray(x, 2, 3));
    }
}
