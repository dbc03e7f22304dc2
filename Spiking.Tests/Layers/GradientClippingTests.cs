using System;
using System.Linq;
using Spiking.Layers;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Layers;

/// <summary>Gradient-norm clipping as <c>torch.nn.utils.clip_grad_norm_</c>: the norm of all gradients together, scaled by <c>max / (norm + 1e-6)</c> when above.</summary>
public sealed class GradientClippingTests
{
    private static Parameter WithGradient(float[] value, float[] grad)
    {
        var p = new Parameter(Tensor.FromArray(value, value.Length));
        using var g = Tensor.FromArray(grad, grad.Length);
        using var loss = Spiking.Autograd.Functional.Sum(Spiking.Autograd.Functional.Multiply(p.Variable, Spiking.Autograd.Variable.Constant(g.Clone())));
        loss.Backward();
        return p;
    }

    [Fact]
    public void Gradients_above_the_norm_are_scaled_to_it_and_below_it_left_alone()
    {
        using var a = WithGradient([1, 2], [3, 4]);
        using var b = WithGradient([0, 0, 0], [0, 12, 0]);
        double norm = GradientClipping.ClipByNorm([a, b], 1.0);
        Assert.Equal(13.0, norm, 1e-9);
        double scale = 1.0 / (13.0 + 1e-6);
        Assert.Equal([3 * scale, 4 * scale], a.Grad!.AsReadOnlySpan().ToArray().Select(v => (double)v), new DoubleTolerance(1e-7));
        Assert.Equal(12 * scale, b.Grad!.AsReadOnlySpan()[1], 1e-7);

        double again = GradientClipping.ClipByNorm([a, b], 5.0);
        Assert.Equal(1.0, again, 1e-6);
        Assert.Equal(3 * scale, a.Grad!.AsReadOnlySpan()[0], 1e-7);
    }

    [Fact]
    public void A_non_finite_norm_is_returned_and_nothing_is_scaled()
    {
        using var a = WithGradient([1, 2], [float.PositiveInfinity, 4]);
        Assert.Equal(double.PositiveInfinity, GradientClipping.ClipByNorm([a], 1.0));
        Assert.Equal(4f, a.Grad!.AsReadOnlySpan()[1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipByNorm([a], 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipByNorm([a], double.NaN));
    }

    private sealed class DoubleTolerance(double tolerance) : System.Collections.Generic.IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(double obj) => 0;
    }
}
