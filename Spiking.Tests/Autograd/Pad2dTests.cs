using System;
using Spiking.Autograd;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Autograd;

public sealed class Pad2dTests
{
    [Theory]
    [InlineData(2, 3, 4, 5, 1, true)]
    [InlineData(1, 2, 1, 1, 2, true)]
    [InlineData(3, 1, 3, 2, 1, false)]
    [InlineData(1, 2, 2, 3, 0, true)]
    public void The_border_holds_each_channels_value_and_the_interior_the_input(int n, int c, int h, int w, int padding, bool withValues)
    {
        var rng = new PhiloxGenerator(1);
        using var x = rng.Normal(new Shape(n, c, h, w));
        using var values = rng.Normal(new Shape(c));
        using var scope = DisposeScope.Begin();
        var y = Functional.Pad2d(Variable.Constant(x), padding, withValues ? values : null);

        int ph = h + 2 * padding, pw = w + 2 * padding;
        Assert.Equal(new Shape(n, c, ph, pw), y.Shape);
        var actual = y.Dense.ToArray();
        var input = x.ToArray();
        var border = values.ToArray();
        for (int m = 0; m < n * c; m++)
        {
            for (int r = 0; r < ph; r++)
            {
                for (int q = 0; q < pw; q++)
                {
                    bool inside = r >= padding && r < padding + h && q >= padding && q < padding + w;
                    float expected = inside ? input[(m * h + r - padding) * w + q - padding] : withValues ? border[m % c] : 0f;
                    Assert.Equal(expected, actual[(m * ph + r) * pw + q]);
                }
            }
        }
    }

    [Fact]
    public void The_gradient_is_the_interior_of_the_output_gradient_by_finite_differences()
    {
        var rng = new PhiloxGenerator(2);
        using var values = rng.Normal(new Shape(3));
        GradAssert.Passes(v => Functional.Pad2d(v[0], 2, values), "Pad2d", rng.Normal(new Shape(2, 3, 3, 4)));
    }

    [Fact]
    public void Bad_arguments_name_what_was_expected()
    {
        using var x = Tensor.Zeros(2, 3, 4, 4);
        using var wrong = Tensor.Zeros(4);
        var e = Assert.Throws<ArgumentException>(() => Functional.Pad2d(Variable.Constant(x), 1, wrong));
        Assert.Contains("[3]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[4]", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => Functional.Pad2d(Variable.Constant(x), -1));
        using var flat = Tensor.Zeros(3, 4);
        e = Assert.Throws<ArgumentException>(() => Functional.Pad2d(Variable.Constant(flat), 1));
        Assert.Contains("rank 4", e.Message, StringComparison.Ordinal);
        using var spikes = SpikeTensor.Zeros(1, 1, 2, 2);
        e = Assert.Throws<ArgumentException>(() => Functional.Pad2d(Variable.Constant(spikes), 1));
        Assert.Contains("spikes", e.Message, StringComparison.Ordinal);
    }
}
