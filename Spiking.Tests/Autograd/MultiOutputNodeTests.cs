using System;
using System.Collections.Generic;
using Spiking.Autograd;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Autograd;

/// <summary>
/// Ops with several outputs and ops that add into part of an input's gradient, written from the public API only:
/// the graph runs such a node once with every output's gradient (null for outputs nothing reached).
/// </summary>
public sealed class MultiOutputNodeTests
{
    private static readonly float[] s_x = [0.5f, -1.5f, 2f, 0.25f, -0.75f, 3f];

    /// <summary>(a, b) = (2x, x²): two outputs of one node; counts its backward calls and the gradients it saw.</summary>
    private sealed class TwiceAndSquare : MultiOutputNode
    {
        private readonly SavedTensor _x;

        private TwiceAndSquare(Variable x) : base(2, x) => _x = new SavedTensor(x.Dense, "x");

        public override string Name => "twice_and_square";

        public int Calls { get; private set; }

        public bool[] Reached { get; } = new bool[2];

        public static (Variable A, Variable B, TwiceAndSquare? Node) Apply(Variable x)
        {
            var a = x.Dense.Multiply(2f);
            var b = x.Dense.Multiply(x.Dense);
            var node = Record(() => new TwiceAndSquare(x), x);
            return (Variable.FromOp(a, node, 0), Variable.FromOp(b, node, 1), node);
        }

        protected internal override void Backward(IReadOnlyList<Tensor?> gradOutputs, InputGradients gradients)
        {
            Calls++;
            Reached[0] = gradOutputs[0] is not null;
            Reached[1] = gradOutputs[1] is not null;
            var g = Tensor.Zeros(_x.Value.Shape);
            if (gradOutputs[0] is { } ga) g.AddInPlace(ga.Multiply(2f));
            if (gradOutputs[1] is { } gb) g.AddInPlace(gb.Multiply(_x.Value.Multiply(2f)));
            gradients.Add(0, g);
        }

        protected internal override void ReleaseSaved() => _x.Release();
    }

    /// <summary>y = x[0] (first row of a [2, 3] input): adds its gradient into the input's running gradient in place.</summary>
    private sealed class FirstRow : Node
    {
        private FirstRow(Variable x) : base(x)
        {
        }

        public override string Name => "first_row";

        public static Variable Apply(Variable x)
        {
            var y = x.Dense[0].Clone();
            return Variable.FromOp(y, Record(() => new FirstRow(x), x));
        }

        protected internal override Tensor?[] Backward(Tensor gradOutput) => throw new InvalidOperationException("the graph must call the general form");

        protected internal override void Backward(IReadOnlyList<Tensor?> gradOutputs, InputGradients gradients)
        {
            var into = gradients.Accumulator(0);
            if (into is null) return;
            using var row = into[0];
            row.AddInPlace(gradOutputs[0]!);
        }
    }

    [Fact]
    public void Both_outputs_of_one_node_reach_the_input_through_one_backward_call()
    {
        using var x = Variable.Parameter(Tensor.FromArray(s_x, 6), "x");
        var (a, b, node) = TwiceAndSquare.Apply(x);
        using (a)
        using (b)
        using (var loss = Functional.Sum(a * 3f + b))
        {
            loss.Backward();
        }
        Assert.Equal(1, node!.Calls);
        Assert.Equal([true, true], node.Reached);
        var g = x.Grad!.AsReadOnlySpan();
        for (int i = 0; i < s_x.Length; i++) Assert.Equal(6f + 2f * s_x[i], g[i]);
        Assert.True(node.IsReleased);
        Assert.Null(a.Creator);
    }

    [Fact]
    public void An_output_no_gradient_reached_arrives_as_null()
    {
        using var x = Variable.Parameter(Tensor.FromArray(s_x, 6), "x");
        var (a, b, node) = TwiceAndSquare.Apply(x);
        using (a)
        using (b)
        using (var loss = Functional.Sum(b))
        {
            loss.Backward();
        }
        Assert.Equal([false, true], node!.Reached);
        var g = x.Grad!.AsReadOnlySpan();
        for (int i = 0; i < s_x.Length; i++) Assert.Equal(2f * s_x[i], g[i]);
    }

    [Fact]
    public void FromOp_refuses_an_output_index_the_node_does_not_have()
    {
        using var x = Variable.Parameter(Tensor.FromArray(s_x, 6), "x");
        var (a, b, node) = TwiceAndSquare.Apply(x);
        using (a)
        using (b)
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => Variable.FromOp(Tensor.Zeros(6), node, 2));
            Assert.Contains("twice_and_square has 2 outputs", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Partial_gradients_add_into_the_running_sum_of_leaves_and_intermediates()
    {
        using var x = Variable.Parameter(Tensor.FromArray(s_x, 2, 3), "x");
        // Leaf: x[0] twice plus x itself; the accumulator starts from zero and meets the dense gradient of x.
        using (var loss = Functional.Sum(FirstRow.Apply(x) * 2f + FirstRow.Apply(x)) + Functional.Sum(x))
        {
            loss.Backward();
        }
        Assert.Equal([4f, 4f, 4f, 1f, 1f, 1f], x.Grad!.ToArray());
        x.ZeroGrad();
        // Intermediate: the rows of e = exp(x) get 1 (row 0) and 0 (row 1), then exp's backward multiplies by e.
        using var e = Functional.Exp(x);
        using (var loss = Functional.Sum(FirstRow.Apply(e)))
        {
            loss.Backward();
        }
        var g = x.Grad!.AsReadOnlySpan();
        var ev = e.Dense.AsReadOnlySpan();
        for (int i = 0; i < 6; i++) Assert.Equal(i < 3 ? ev[i] : 0f, g[i]);
    }
}
