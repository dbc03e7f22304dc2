using System;
using Spiking.Autograd;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Autograd;

public sealed class GradCheckTests
{
    [Fact]
    public void A_backward_returning_twice_the_gradient_fails_the_check()
    {
        using var x = Tensor.FromArray([0.5f, -1.25f, 2f, 0.75f], 2, 2);
        var result = GradCheck.Check(v => DoubledSquareNode.Apply(v[0]), [x]);
        Assert.False(result.Passed, result.Detail);
        Assert.Contains("input 0", result.Detail, StringComparison.Ordinal);
        // The analytic gradient is 4x·r against a numeric 2x·r: the error is as large as the gradient itself.
        Assert.True(result.MaxRelError > 0.9, $"max rel error {result.MaxRelError}");
    }

    [Fact]
    public void The_same_function_through_correct_ops_passes()
    {
        using var x = Tensor.FromArray([0.5f, -1.25f, 2f, 0.75f], 2, 2);
        var result = GradCheck.Check(v => Functional.Multiply(v[0], v[0]), [x]);
        Assert.True(result.Passed, result.Detail);
        Assert.True(result.MaxAbsError < 1e-3, $"max abs error {result.MaxAbsError}");
    }

    [Fact]
    public void A_wrong_gradient_for_one_of_two_inputs_is_reported_for_that_input()
    {
        using var a = Tensor.FromArray([0.5f, -1.5f, 1f], 3);
        using var b = Tensor.FromArray([1.5f, 0.25f, -2f], 3);
        var result = GradCheck.Check(v => Functional.Add(v[0], DoubledSquareNode.Apply(v[1])), [a, b]);
        Assert.False(result.Passed);
        Assert.Contains("input 1", result.Detail, StringComparison.Ordinal);
    }
}
