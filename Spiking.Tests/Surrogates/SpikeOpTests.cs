using System;
using Spiking.Autograd;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Surrogates;

/// <summary><see cref="Functional.Spike"/>: Heaviside to bits forward, the surrogate's analytic derivative backward.</summary>
public sealed class SpikeOpTests
{
    [Theory]
    [MemberData(nameof(SurrogateTests.All), MemberType = typeof(SurrogateTests))]
    public void Backward_is_the_upstream_gradient_times_the_analytic_derivative(Surrogate surrogate)
    {
        const float threshold = 0.3f;
        var rng = new Random(3);
        var x = new float[3 * 70];
        var g = new float[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = i % 17 == 0 ? threshold : (float)Reference.Normal(rng);
            g[i] = (float)Reference.Normal(rng);
        }
        using var input = Variable.Input(Tensor.FromArray(x, 3, 70));
        using var spikes = Functional.Spike(input, surrogate, threshold);
        Assert.True(spikes.IsSpikes);
        Assert.Equal(Reference.Pack(Array.ConvertAll(x, v => v >= threshold), 3, 70), spikes.Spikes!.Words.ToArray());
        using var gradient = Tensor.FromArray(g, 3, 70);
        spikes.Backward(gradient);
        var grad = input.Grad!.AsReadOnlySpan();
        for (int i = 0; i < x.Length; i++)
        {
            double expected = (double)g[i] * surrogate.Derivative(x[i] - threshold);
            Assert.True(Math.Abs(grad[i] - expected) <= 1e-6 * Math.Abs(expected) + 1e-12, $"{surrogate} element {i}: {grad[i]} vs {expected}");
        }
    }

    [Fact]
    public void A_user_surrogate_drives_the_op()
    {
        using var input = Variable.Input(Tensor.FromArray([-0.25f, 0f, 0.25f, 2f], 4));
        using var spikes = Functional.Spike(input, new TriangleSurrogate(0.5f));
        spikes.Backward(Tensor.Ones(spikes.Shape));
        Assert.Equal(new[] { 1f, 2f, 1f, 0f }, input.Grad!.ToArray());
        Assert.Equal(new[] { 0f, 1f, 1f, 1f }, spikes.ToDense().ToArray());
    }

    [Fact]
    public void Without_grad_no_graph_is_recorded()
    {
        using var constant = Variable.Constant(Tensor.FromArray([1f, -1f], 2));
        using var spikes = Functional.Spike(constant, new ATan());
        Assert.Null(spikes.Creator);
        Assert.False(spikes.RequiresGrad);
    }

    [Fact]
    public void Bad_inputs_are_rejected()
    {
        using var scalar = Variable.Input(Tensor.Scalar(1f));
        Assert.Throws<ArgumentException>(() => Functional.Spike(scalar, new ATan()));
        using var bits = Variable.Constant(SpikeTensor.Zeros(2, 3));
        Assert.Throws<ArgumentException>(() => Functional.Spike(bits, new ATan()));
    }
}
