using System;
using FsCheck.Xunit;
using Spiking.Autograd;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Autograd;

/// <summary>
/// Add, Subtract, Multiply, Divide (functions, operators and scalar forms) with spike operands: values against the
/// double reference on the 0/1 values, the kind of the result (spikes only for spikes times spikes), zero padding,
/// gradients with respect to spike operands against the dense path on the same 0/1 values (itself checked by finite
/// differences in <see cref="ElementwiseOpTests"/>), and the dense operand's gradient by finite differences.
/// </summary>
public sealed class SpikeArithmeticTests
{
    private static readonly (bool Left, bool Right)[] s_kinds = [(true, false), (false, true), (true, true)];

    private static bool IsProduct(string name) => name is "Multiply" or "operator *";

    private static bool IsQuotient(string name) => name is "Divide" or "operator /";

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 30)]
    public void Binary_ops_with_spike_operands_match_the_dense_path(SpikeBroadcastCase c)
    {
        foreach (var (name, op, reference) in ElementwiseOpTests.s_binary)
        {
            foreach (var (leftSpikes, rightSpikes) in s_kinds)
            {
                string what = $"{name} with {(leftSpikes ? "spikes" : "dense")} {Shape.Format(c.Left)} and {(rightSpikes ? "spikes" : "dense")} {Shape.Format(c.Right)}, {c}";
                var left = leftSpikes ? c.LeftBits() : c.LeftCase.Values();
                var right = rightSpikes ? c.RightBits() : c.RightCase.Values();
                var (dims, expected) = Reference.Broadcast(left, c.Left, right, c.Right, reference);
                var g = new TensorCase(dims, c.Seed + 7);

                using var lu = Variable.Parameter(Tensor.FromSpan(leftSpikes ? ShapeOpTests.Shifted(left) : left, new Shape(c.Left)));
                using var ru = Variable.Parameter(Tensor.FromSpan(rightSpikes ? ShapeOpTests.Shifted(right) : right, new Shape(c.Right)));
                using var lv = leftSpikes ? SpikeSourceNode.Apply(lu) : null;
                using var rv = rightSpikes ? SpikeSourceNode.Apply(ru) : null;
                using var y = op(lv ?? lu, rv ?? ru);
                Assert.Equal(new Shape(dims), y.Shape);
                Assert.Equal(IsProduct(name) && leftSpikes && rightSpikes, y.IsSpikes);
                if (y.IsSpikes) SpikeAssert.PaddingIsZero(y.Spikes!, what);
                Reference.AssertRounded(expected, y.IsSpikes ? SpikeAssert.Bits(y.Spikes!) : y.Dense.ToArray(), what);
                using (var seed = g.Create()) y.Backward(seed);

                using var ld = Variable.Parameter(Tensor.FromSpan(left, new Shape(c.Left)));
                using var rd = Variable.Parameter(Tensor.FromSpan(right, new Shape(c.Right)));
                using var yd = op(ld, rd);
                using (var seed = g.Create()) yd.Backward(seed);
                SpikeAssert.SameValues(ld.Grad!.AsReadOnlySpan(), lu.Grad!.AsReadOnlySpan(), $"{what}: gradient of the left operand");
                SpikeAssert.SameValues(rd.Grad!.AsReadOnlySpan(), ru.Grad!.AsReadOnlySpan(), $"{what}: gradient of the right operand");
            }
        }
    }

    [Property(Arbitrary = new[] { typeof(SmallGenerators) }, MaxTest = 20)]
    public void The_dense_operand_beside_spikes_passes_gradient_checks(SpikeBroadcastCase c)
    {
        using var leftBits = Variable.Constant(SpikeValues.Pack(c.LeftBits(), c.Left));
        using var rightBits = Variable.Constant(SpikeValues.Pack(c.RightBits(), c.Right));
        foreach (var (name, op, _) in ElementwiseOpTests.s_binary)
        {
            // A quotient by spikes is infinite where a spike is missing: only the numerator side is checked there.
            if (!IsQuotient(name)) GradAssert.Passes(v => op(v[0], rightBits), $"{name} dense by spikes {c}", c.LeftCase.Create());
            GradAssert.Passes(v => op(leftBits, v[0]), $"{name} spikes by dense {c}", GradAssert.AwayFromZero(c.RightCase, 0.5f));
        }
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 30)]
    public void Scalar_ops_on_spikes_match_the_dense_path(SliceCase c)
    {
        var bits = c.Bits();
        var g = new TensorCase(c.Dims, c.Seed + 2);
        foreach (var (name, op, reference) in ElementwiseOpTests.s_scalar)
        {
            using var u = Variable.Parameter(Tensor.FromSpan(ShapeOpTests.Shifted(bits), c.Shape));
            using var s = SpikeSourceNode.Apply(u);
            using var y = op(s);
            Assert.False(y.IsSpikes);
            Assert.Equal(c.Shape, y.Shape);
            var expected = new double[bits.Length];
            for (int i = 0; i < bits.Length; i++) expected[i] = reference(bits[i]);
            Reference.AssertRounded(expected, y.Dense.AsReadOnlySpan(), $"{name} on spikes {c}");
            using (var seed = g.Create()) y.Backward(seed);
            using var d = Variable.Parameter(Tensor.FromSpan(bits, c.Shape));
            using var yd = op(d);
            using (var seed = g.Create()) yd.Backward(seed);
            SpikeAssert.SameValues(d.Grad!.AsReadOnlySpan(), u.Grad!.AsReadOnlySpan(), $"{name} on spikes {c}: gradient");
        }
    }

    [Fact]
    public void A_product_with_spikes_gates_the_other_factor_and_its_gradients_are_g_times_the_other_factor()
    {
        const int rows = 3, n = 70;
        var bits = SpikeValues.Draw(rows * n, 0.4, 8);
        var xv = new TensorCase([n], 9).Values();
        var gv = new TensorCase([rows, n], 10).Values();
        using var u = Variable.Parameter(Tensor.FromSpan(ShapeOpTests.Shifted(bits), new Shape(rows, n)));
        using var s = SpikeSourceNode.Apply(u);
        using var x = Variable.Parameter(Tensor.FromArray(xv, n));
        using var y = s * x;
        var values = y.Dense.AsReadOnlySpan();
        for (int e = 0; e < values.Length; e++) Assert.Equal(bits[e] != 0 ? xv[e % n] : 0f, values[e]);
        using (var seed = Tensor.FromArray(gv, rows, n)) y.Backward(seed);
        // ∂L/∂s = g·x element by element; ∂L/∂x = Σ over rows of g·s.
        var ds = u.Grad!.AsReadOnlySpan();
        for (int e = 0; e < ds.Length; e++) Assert.Equal(gv[e] * xv[e % n], ds[e]);
        var dx = x.Grad!.AsReadOnlySpan();
        for (int j = 0; j < n; j++)
        {
            double sum = 0;
            for (int r = 0; r < rows; r++) sum += bits[r * n + j] * (double)gv[r * n + j];
            Assert.True(Math.Abs(sum - dx[j]) <= 1e-6, $"dx[{j}] is {dx[j]}, expected {sum}");
        }

        // A gate, not a float product: where no spike, the result is 0 even beside ∞ or NaN.
        using var odd = Variable.Constant(Tensor.FromArray([float.PositiveInfinity, float.NaN, -3f, float.NegativeInfinity], 4));
        using var mask = Variable.Constant(SpikeValues.Pack([0f, 0f, 0f, 1f], [4]));
        using var gated = odd * mask;
        Assert.Equal([0f, 0f, 0f, float.NegativeInfinity], gated.Dense.ToArray());
        using var scaled = mask * float.PositiveInfinity;
        Assert.Equal([0f, 0f, 0f, float.PositiveInfinity], scaled.Dense.ToArray());
    }

    [Fact]
    public void Spikes_times_spikes_is_the_AND_of_the_bits_under_broadcasting()
    {
        var aBits = SpikeValues.Draw(2 * 1 * 130, 0.5, 1);
        var bBits = SpikeValues.Draw(3 * 130, 0.5, 2);
        using var a = Variable.Constant(SpikeValues.Pack(aBits, [2, 1, 130]));
        using var b = Variable.Constant(SpikeValues.Pack(bBits, [3, 130]));
        using var y = a * b;
        Assert.True(y.IsSpikes);
        Assert.Equal(new Shape(2, 3, 130), y.Shape);
        var (_, expected) = Reference.Broadcast(aBits, [2, 1, 130], bBits, [3, 130], (p, q) => p * q);
        SpikeAssert.Equal(ToFloats(expected), y.Spikes!, "AND of [2, 1, 130] and [3, 130]");

        // A last axis of 1 broadcasts its one bit along the row; the padding of the 70-bit rows stays zero.
        var column = SpikeValues.Draw(4, 0.5, 3);
        var row = SpikeValues.Draw(70, 0.7, 4);
        using var c = Variable.Constant(SpikeValues.Pack(column, [4, 1]));
        using var r = Variable.Constant(SpikeValues.Pack(row, [70]));
        using var outer = c * r;
        var (_, outerExpected) = Reference.Broadcast(column, [4, 1], row, [70], (p, q) => p * q);
        SpikeAssert.Equal(ToFloats(outerExpected), outer.Spikes!, "AND of [4, 1] and [70]");

        // A dense scalar beside spikes broadcasts as any operand does.
        using var half = Variable.Constant(Tensor.Scalar(0.5f));
        using var sum = r + half;
        using var quotient = half / c;
        var (_, sumExpected) = Reference.Broadcast(row, [70], [0.5f], [], (p, q) => p + q);
        var (_, quotientExpected) = Reference.Broadcast([0.5f], [], column, [4, 1], (p, q) => p / q);
        Reference.AssertRounded(sumExpected, sum.Dense.AsReadOnlySpan(), "[70] spikes + scalar");
        Reference.AssertRounded(quotientExpected, quotient.Dense.AsReadOnlySpan(), "scalar / [4, 1] spikes");
    }

    private static float[] ToFloats(double[] values)
    {
        var f = new float[values.Length];
        for (int i = 0; i < f.Length; i++) f[i] = (float)values[i];
        return f;
    }
}
