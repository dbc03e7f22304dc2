using System;
using System.Linq;
using Spiking.Autograd;
using Spiking.Layers;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Layers;

public sealed class DepthwiseConv2dModuleTests
{
    [Fact]
    public void State_dict_holds_one_filter_per_channel_initialised_within_the_pytorch_bound()
    {
        using var conv = new DepthwiseConv2d(6, 7, padding: 3, generator: new PhiloxGenerator(3));
        var state = conv.StateDict();
        Assert.Equal(["weight", "bias"], state.Select(e => e.Name));
        Assert.Equal(new Shape(6, 1, 7, 7), state[0].Value!.Shape);
        Assert.Equal(new Shape(6), state[1].Value!.Shape);
        // PyTorch's kaiming_uniform(a=√5) and bias init for groups == C both give the bound 1/√(k·k): the fan-in is one channel's k·k.
        float bound = 1f / 7f;
        foreach (var entry in state)
        {
            var values = entry.Value!.AsReadOnlySpan();
            foreach (float v in values) Assert.InRange(v, -bound, bound);
            Assert.True(values.ToArray().Max() - values.ToArray().Min() > bound / 2, $"{entry.Name} spreads over its bound");
        }
        using var plain = new DepthwiseConv2d(6, 3, bias: false);
        Assert.Equal(["weight"], plain.StateDict().Select(e => e.Name));
    }

    [Fact]
    public void Multi_step_input_folds_time_into_the_batch()
    {
        using var conv = new DepthwiseConv2d(3, 3, stride: 2, padding: 1, generator: new PhiloxGenerator(5));
        var rng = new PhiloxGenerator(6);
        using var scope = DisposeScope.Begin();
        using var x = Variable.Input(rng.Normal(new Shape(2, 3, 3, 7, 6), 0f, 1f));
        var y = conv.Forward(x);
        Assert.Equal(new Shape(2, 3, 3, 4, 3), y.Shape);
        var folded = Functional.Reshape(x, 6, 3, 7, 6);
        var expected = Functional.DepthwiseConv2d(folded, conv.Weight.Variable, conv.Bias!.Variable, 2, 1);
        Reference.AssertBitwise(expected.Dense.AsReadOnlySpan(), y.Dense.AsReadOnlySpan(), "folded vs multi-step");
        var e = Assert.Throws<ArgumentException>(() => conv.Forward(Variable.Constant(Tensor.Zeros(2, 3, 4, 7, 6))));
        Assert.Contains("[2, 3, 4, 7, 6]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[T, B, 3, H, W]", e.Message, StringComparison.Ordinal);
    }
}
