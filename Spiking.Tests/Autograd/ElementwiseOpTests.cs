using System;
using FsCheck.Xunit;
using Spiking.Autograd;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Autograd;

public sealed class ElementwiseOpTests
{
    internal static readonly (string Name, Func<Variable, Variable, Variable> Op, Func<double, double, double> Reference)[] s_binary =
    [
        ("Add", Functional.Add, (x, y) => x + y),
        ("Subtract", Functional.Subtract, (x, y) => x - y),
        ("Multiply", Functional.Multiply, (x, y) => x * y),
        ("Divide", Functional.Divide, (x, y) => x / y),
        ("operator +", (a, b) => a + b, (x, y) => x + y),
        ("operator -", (a, b) => a - b, (x, y) => x - y),
        ("operator *", (a, b) => a * b, (x, y) => x * y),
        ("operator /", (a, b) => a / b, (x, y) => x / y),
    ];

    internal static readonly (string Name, Func<Variable, Variable> Op, Func<double, double> Reference)[] s_scalar =
    [
        ("Add(x, 2.5)", x => Functional.Add(x, 2.5f), x => x + 2.5),
        ("Subtract(x, 1.5)", x => Functional.Subtract(x, 1.5f), x => x - 1.5),
        ("Multiply(x, -3)", x => Functional.Multiply(x, -3f), x => x * -3),
        ("Divide(x, 3)", x => Functional.Divide(x, 3f), x => x / 3),
        ("Negate", Functional.Negate, x => -x),
        ("x + 0.75", x => x + 0.75f, x => x + 0.75),
        ("0.75 + x", x => 0.75f + x, x => 0.75 + x),
        ("x - 4", x => x - 4f, x => x - 4),
        ("4 - x", x => 4f - x, x => 4 - x),
        ("x * 0.1", x => x * 0.1f, x => x * (double)0.1f),
        ("0.1 * x", x => 0.1f * x, x => (double)0.1f * x),
        ("x / 7", x => x / 7f, x => x / 7),
        ("-x", x => -x, x => -x),
    ];

    // A single float +, -, *, / is correctly rounded, so the double result rounded to float is exact.
    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 40)]
    public void Binary_forward_matches_double_under_broadcasting(BroadcastCase c)
    {
        var x = c.LeftCase.Values();
        var y = GradAssert.AwayFromZero(c.RightCase.Values(), 0.1f);
        foreach (var (name, op, reference) in s_binary)
        {
            using var a = Variable.Constant(c.LeftCase.Create());
            using var b = Variable.Constant(Tensor.FromSpan(y, c.RightCase.Shape));
            using var r = op(a, b);
            var (dims, expected) = Reference.Broadcast(x, c.Left, y, c.Right, reference);
            Assert.Equal(new Shape(dims), r.Shape);
            Reference.AssertRounded(expected, r.Dense.AsReadOnlySpan(), $"{name} {c}");
        }
    }

    [Property(Arbitrary = new[] { typeof(SmallGenerators) }, MaxTest = 25)]
    public void Binary_gradients_sum_back_over_broadcast_axes(BroadcastCase c)
    {
        foreach (var (name, op, _) in s_binary)
        {
            GradAssert.Passes(v => op(v[0], v[1]), $"{name} {c}", c.LeftCase.Create(), GradAssert.AwayFromZero(c.RightCase, 0.5f));
            GradAssert.Passes(v => op(v[1], v[0]), $"{name} swapped {c}", GradAssert.AwayFromZero(c.LeftCase, 0.5f), GradAssert.AwayFromZero(c.RightCase, 0.5f));
        }
    }

    public static TheoryData<int[], int[]> BroadcastPatterns => new()
    {
        { [4, 3], [3] },              // bias [N] onto [B, N]
        { [2, 3, 2, 2], [3, 1, 1] },  // per-channel [C, 1, 1] onto [B, C, H, W]
        { [4, 1], [1, 5] },           // outer product shapes
        { [2, 3], [] },               // scalar tensor
        { [], [] },
        { [1, 1, 1], [2, 3, 2] },
        { [9], [9] },
    };

    [Theory]
    [MemberData(nameof(BroadcastPatterns))]
    public void Binary_gradients_for_common_broadcast_patterns(int[] left, int[] right)
    {
        var lc = new TensorCase(left, 3);
        var rc = new TensorCase(right, 4);
        foreach (var (name, op, _) in s_binary)
        {
            GradAssert.Passes(v => op(v[0], v[1]), $"{name} {lc} {rc}", lc.Create(), GradAssert.AwayFromZero(rc, 0.5f));
            GradAssert.Passes(v => op(v[1], v[0]), $"{name} swapped {lc} {rc}", GradAssert.AwayFromZero(lc, 0.5f), GradAssert.AwayFromZero(rc, 0.5f));
        }
    }

    [Fact]
    public void Only_the_inputs_that_require_grad_get_one()
    {
        using var a = Variable.Parameter(Tensor.FromArray([1f, 2f, 3f], 3));
        using var b = Variable.Constant(Tensor.FromArray([4f, 5f, 6f], 3));
        using var loss = Functional.Sum(a * b / b - b);
        loss.Backward();
        Assert.Equal([1f, 1f, 1f], a.Grad!.ToArray());
        Assert.Null(b.Grad);
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 40)]
    public void Scalar_ops_forward_match_double(TensorCase c)
    {
        var x = c.Values();
        foreach (var (name, op, reference) in s_scalar)
        {
            using var v = Variable.Constant(c.Create());
            using var r = op(v);
            Assert.Equal(c.Shape, r.Shape);
            var expected = new double[x.Length];
            for (int i = 0; i < x.Length; i++) expected[i] = reference(x[i]);
            Reference.AssertRounded(expected, r.Dense.AsReadOnlySpan(), $"{name} {c}");
        }
    }

    [Property(Arbitrary = new[] { typeof(SmallGenerators) }, MaxTest = 20)]
    public void Scalar_op_gradients(TensorCase c)
    {
        foreach (var (name, op, _) in s_scalar) GradAssert.Passes(v => op(v[0]), $"{name} {c}", c.Create());
    }

    [Fact]
    public void Scalar_tensors_work_as_operands()
    {
        GradAssert.Passes(v => v[0] * v[1] - v[0] / v[1], "scalars", Tensor.Scalar(1.5f), Tensor.Scalar(-2f));
    }

    [Theory]
    [InlineData(new[] { 2, 3 }, new[] { 4 })]
    [InlineData(new[] { 5, 7 }, new[] { 5 })]
    [InlineData(new[] { 2, 3, 4 }, new[] { 2, 4, 4 })]
    public void Shapes_that_do_not_broadcast_are_named(int[] left, int[] right)
    {
        using var a = Variable.Parameter(Tensor.Zeros(left));
        using var b = Variable.Parameter(Tensor.Zeros(right));
        foreach (var (name, op, _) in s_binary)
        {
            var e = Assert.Throws<ArgumentException>(() => op(a, b));
            Assert.Contains(Shape.Format(left), e.Message, StringComparison.Ordinal);
            Assert.Contains(Shape.Format(right), e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Spike_operands_whose_shapes_do_not_broadcast_are_named_and_dense_only_ops_name_the_conversion()
    {
        using var dense = Variable.Parameter(Tensor.Zeros(4));
        using var spikes = Variable.Constant(SpikeTensor.Zeros(2, 3), "s");
        using var other = Variable.Constant(SpikeTensor.Zeros(4), "t");
        foreach (var (name, op, _) in s_binary)
        {
            foreach (var (left, right) in new[] { (spikes, dense), (dense, spikes), (spikes, other) })
            {
                var e = Assert.Throws<ArgumentException>(() => op(left, right));
                Assert.Contains("[2, 3]", e.Message, StringComparison.Ordinal);
                Assert.Contains("[4]", e.Message, StringComparison.Ordinal);
            }
        }
        var exp = Assert.Throws<ArgumentException>(() => Functional.Exp(spikes));
        Assert.Equal("x", exp.ParamName);
        Assert.Contains("holds spikes of shape [2, 3]", exp.Message, StringComparison.Ordinal);
        Assert.Contains("SpikesToDense", exp.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nothing_is_saved_for_inputs_whose_partner_needs_no_gradient()
    {
        // a·b with only a trainable: backward needs b but not a; writing a afterwards must not trip the saved-tensor check.
        using var a = Variable.Parameter(Tensor.FromArray([1f, 2f], 2));
        using var b = Variable.Constant(Tensor.FromArray([3f, 4f], 2));
        using var loss = Functional.Sum(a * b);
        a.Dense.AsSpan()[0] = 10f;
        loss.Backward();
        Assert.Equal([3f, 4f], a.Grad!.ToArray());
    }

}
