using System;
using Spiking.Autograd;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Autograd;

public sealed class GraphTests
{
    private static readonly float[] s_x = [0.5f, -1.5f, 2f, 0.25f, -0.75f, 3f];

    [Fact]
    public void A_variable_used_twice_accumulates_both_gradients()
    {
        using var x = Variable.Parameter(Tensor.FromArray(s_x, 2, 3), "x");
        using var y = x * x + x;
        using var loss = Functional.Sum(y);
        loss.Backward();
        var g = x.Grad!.AsReadOnlySpan();
        for (int i = 0; i < s_x.Length; i++) Assert.Equal(2 * s_x[i] + 1, g[i]);
    }

    [Fact]
    public void Branches_that_meet_again_sum_their_gradients()
    {
        // z = exp(x)·x + tanh(x): every path from z back to x contributes.
        using var x = Variable.Parameter(Tensor.FromArray(s_x, 6), "x");
        using var loss = Functional.Sum(Functional.Exp(x) * x + Functional.Tanh(x));
        loss.Backward();
        var g = x.Grad!.AsReadOnlySpan();
        for (int i = 0; i < s_x.Length; i++)
        {
            double v = s_x[i], t = Math.Tanh(v);
            double expected = Math.Exp(v) * (v + 1) + 1 - t * t;
            Assert.True(Math.Abs(expected - g[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected)), $"element {i}: {g[i]} vs {expected}");
        }
    }

    [Fact]
    public void No_grad_builds_no_graph_and_recording_resumes_after_the_scope()
    {
        using var x = Variable.Parameter(Tensor.FromArray(s_x, 2, 3), "x");
        using (GradMode.NoGrad())
        {
            Assert.False(GradMode.IsEnabled);
            using var y = Functional.Relu(x * x + 1f);
            Assert.False(y.RequiresGrad);
            Assert.Null(y.Creator);
            Assert.True(y.IsLeaf);
            using (GradMode.NoGrad())
            {
                using var z = Functional.Softmax(x);
                Assert.Null(z.Creator);
            }
            Assert.False(GradMode.IsEnabled);
            var e = Assert.Throws<InvalidOperationException>(() => y.Backward(Tensor.Ones(y.Shape)));
            Assert.Contains("does not require grad", e.Message, StringComparison.Ordinal);
        }
        Assert.True(GradMode.IsEnabled);
        using var w = x * 2f;
        Assert.True(w.RequiresGrad);
        Assert.NotNull(w.Creator);
    }

    [Fact]
    public void Ops_on_constants_only_record_nothing()
    {
        using var c = Variable.Constant(Tensor.FromArray(s_x, 2, 3));
        using var y = Functional.Exp(c) * c;
        Assert.False(y.RequiresGrad);
        Assert.Null(y.Creator);
    }

    [Fact]
    public void Backward_on_a_non_scalar_without_a_gradient_names_the_shape()
    {
        using var x = Variable.Parameter(Tensor.FromArray(s_x, 2, 3), "x");
        using var y = x * 3f;
        var e = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("[2, 3]", e.Message, StringComparison.Ordinal);
        using var wrong = Tensor.Ones(new Shape(3, 2));
        var a = Assert.Throws<ArgumentException>(() => y.Backward(wrong));
        Assert.Contains("[3, 2]", a.Message, StringComparison.Ordinal);
        Assert.Contains("[2, 3]", a.Message, StringComparison.Ordinal);
        using var seed = Tensor.Ones(new Shape(2, 3));
        y.Backward(seed);
        Assert.All(x.Grad!.ToArray(), g => Assert.Equal(3f, g));
    }

    [Fact]
    public void Detach_copies_the_value_into_a_leaf_that_blocks_the_gradient()
    {
        using var x = Variable.Parameter(Tensor.FromArray(s_x, 6), "x");
        using var y = x * x;
        using var d = y.Detach();
        Assert.False(d.RequiresGrad);
        Assert.True(d.IsLeaf);
        Assert.Equal(y.Dense.ToArray(), d.Dense.ToArray());
        d.Dense.AsSpan()[0] = 100f;
        Assert.Equal(s_x[0] * s_x[0], y.Dense.GetValue(0));
        // z = detach(x²)·x: the gradient is the detached value only, no 2x·x term.
        using var loss = Functional.Sum(d * x);
        loss.Backward();
        Assert.Equal(d.Dense.ToArray(), x.Grad!.ToArray());
    }

    [Fact]
    public void Gradients_accumulate_across_backward_calls_until_ZeroGrad()
    {
        using var x = Variable.Parameter(Tensor.FromArray(s_x, 6), "x");
        for (int step = 1; step <= 2; step++)
        {
            using var loss = Functional.Sum(x * 2f);
            loss.Backward();
            Assert.All(x.Grad!.ToArray(), g => Assert.Equal(2f * step, g));
        }
        x.ZeroGrad();
        Assert.Null(x.Grad);
        using (var loss = Functional.Sum(x * 2f))
        {
            loss.Backward();
        }
        Assert.All(x.Grad!.ToArray(), g => Assert.Equal(2f, g));
    }

    [Fact]
    public void Backward_releases_each_node_once_and_retain_graph_keeps_it()
    {
        using var x = Variable.Parameter(Tensor.FromArray(s_x, 6), "x");
        var (y, node) = CountingNode.Apply(x);
        using var loss = Functional.Sum(y * y);
        loss.Backward(retainGraph: true);
        Assert.Equal(0, node!.Releases);
        Assert.NotNull(y.Creator);
        loss.Backward();
        Assert.Equal(1, node.Releases);
        Assert.Null(y.Creator);
        // Two passes accumulated 2·(2x).
        var g = x.Grad!.AsReadOnlySpan();
        for (int i = 0; i < s_x.Length; i++) Assert.Equal(4 * s_x[i], g[i]);
        y.Dispose();
    }

    [Fact]
    public void A_second_backward_through_a_released_graph_throws()
    {
        using var x = Variable.Parameter(Tensor.FromArray(s_x, 6), "x");
        using var h = Functional.Exp(x);
        using var loss = Functional.Sum(h);
        loss.Backward();
        var e = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.Contains("second time", e.Message, StringComparison.Ordinal);
        Assert.Contains("retainGraph", e.Message, StringComparison.Ordinal);
        // An intermediate of the released graph cannot start a new one either: x would silently get nothing.
        using var again = Functional.Sum(h * 2f);
        Assert.Throws<InvalidOperationException>(() => again.Backward());
        // Detach() is the way to reuse the value.
        using var detached = h.Detach();
        using var fresh = Functional.Sum(detached * x);
        x.ZeroGrad();
        fresh.Backward();
        Assert.Equal(detached.Dense.ToArray(), x.Grad!.ToArray());
    }

    [Fact]
    public void Saved_tensors_go_back_to_the_pool_after_backward()
    {
        using var x = Variable.Parameter(Tensor.FromArray(s_x, 6), "x");
        var y = Functional.Exp(x);
        var saved = y.Dense;
        using (var loss = Functional.Sum(y))
        {
            // Exp saved a view of its output, so the storage outlives the variable until backward releases it.
            y.Dispose();
            Assert.NotNull(saved.StorageArray);
            loss.Backward();
        }
        Assert.Throws<ObjectDisposedException>(() => saved.StorageArray);
    }

    [Fact]
    public void Retain_graph_keeps_saved_tensors_alive()
    {
        using var x = Variable.Parameter(Tensor.FromArray(s_x, 6), "x");
        var y = Functional.Exp(x);
        var saved = y.Dense;
        using var loss = Functional.Sum(y);
        y.Dispose();
        loss.Backward(retainGraph: true);
        Assert.NotNull(saved.StorageArray);
        loss.Backward();
        Assert.Throws<ObjectDisposedException>(() => saved.StorageArray);
    }

    [Fact]
    public void Saved_inputs_survive_the_disposal_of_their_variable()
    {
        using var a = Variable.Parameter(Tensor.FromArray(s_x, 6), "a");
        var bValues = new float[] { 1f, 2f, -3f, 0.5f, 4f, -1f };
        var b = Variable.Constant(Tensor.FromArray(bValues, 6), "b");
        using var loss = Functional.Sum(a * b);
        b.Dispose();
        loss.Backward();
        Assert.Equal(bValues, a.Grad!.ToArray());
    }

    [Fact]
    public void Writing_a_saved_tensor_before_backward_throws_instead_of_using_the_new_values()
    {
        using var x = Variable.Parameter(Tensor.FromArray(s_x, 6), "x");
        using var y = Functional.Exp(x);
        using var loss = Functional.Sum(y);
        y.Dense.AsSpan()[0] = 0f;
        var e = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.Contains("exp's output", e.Message, StringComparison.Ordinal);
    }
}
