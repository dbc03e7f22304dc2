using System;
using FsCheck.Xunit;
using Spiking.Autograd;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Autograd;

public sealed class MatMulTests
{
    private static readonly (bool A, bool B)[] s_transposes = [(false, false), (false, true), (true, false), (true, true)];

    internal static float[] Abs(float[] v)
    {
        var a = new float[v.Length];
        for (int i = 0; i < a.Length; i++) a[i] = Math.Abs(v[i]);
        return a;
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 30)]
    public void Forward_matches_double_for_every_transpose(ProductCase c)
    {
        var a = c.Normal(c.M * c.K, 1);
        var b = c.Normal(c.K * c.N, 2);
        foreach (var (ta, tb) in s_transposes)
        {
            using var av = Variable.Constant(Tensor.FromArray(a, ta ? c.K : c.M, ta ? c.M : c.K));
            using var bv = Variable.Constant(Tensor.FromArray(b, tb ? c.N : c.K, tb ? c.K : c.N));
            using var y = Functional.MatMul(av, bv, ta, tb);
            Assert.Equal(new Shape(c.M, c.N), y.Shape);
            var expected = Reference.MatMul(a, ta, b, tb, c.M, c.N, c.K);
            var scale = Reference.MatMul(Abs(a), ta, Abs(b), tb, c.M, c.N, c.K);
            Reference.AssertClose(expected, y.Dense.AsReadOnlySpan(), scale, 1e-5, 1e-6, $"{c} transposes {ta}/{tb}");
        }
    }

    [Property(Arbitrary = new[] { typeof(SmallGenerators) }, MaxTest = 20)]
    public void Gradients_of_both_operands_for_every_transpose(ProductCase c)
    {
        foreach (var (ta, tb) in s_transposes)
        {
            GradAssert.Passes(v => Functional.MatMul(v[0], v[1], ta, tb), $"{c} transposes {ta}/{tb}",
                Tensor.FromArray(c.Normal(c.M * c.K, 1), ta ? c.K : c.M, ta ? c.M : c.K),
                Tensor.FromArray(c.Normal(c.K * c.N, 2), tb ? c.N : c.K, tb ? c.K : c.N));
        }
    }

    [Property(Arbitrary = new[] { typeof(SmallGenerators) }, MaxTest = 15)]
    public void Batched_a_folds_its_leading_axes_into_rows(ProductCase c)
    {
        // a [2, M, K] · b [K, N] = [2, M, N]: each batch is its own product with the same b.
        var a = c.Normal(2 * c.M * c.K, 1);
        var b = c.Normal(c.K * c.N, 2);
        using (var av = Variable.Constant(Tensor.FromArray(a, 2, c.M, c.K)))
        using (var bv = Variable.Constant(Tensor.FromArray(b, c.K, c.N)))
        using (var y = Functional.MatMul(av, bv))
        {
            Assert.Equal(new Shape(2, c.M, c.N), y.Shape);
            var expected = Reference.MatMul(a, false, b, false, 2 * c.M, c.N, c.K);
            var scale = Reference.MatMul(Abs(a), false, Abs(b), false, 2 * c.M, c.N, c.K);
            Reference.AssertClose(expected, y.Dense.AsReadOnlySpan(), scale, 1e-5, 1e-6, $"{c} batched");
        }
        foreach (bool tb in new[] { false, true })
        {
            GradAssert.Passes(v => Functional.MatMul(v[0], v[1], transposeB: tb), $"{c} batched, transposeB {tb}",
                Tensor.FromArray(a, 2, c.M, c.K), Tensor.FromArray(b, tb ? c.N : c.K, tb ? c.K : c.N));
        }
    }

    [Fact]
    public void A_product_of_a_matrix_with_itself_gets_both_gradients()
    {
        // x·xᵀ: the input is both operands.
        GradAssert.Passes(v => Functional.MatMul(v[0], v[0], transposeB: true), "x·xᵀ", new TensorCase([5, 9], 1).Create());
        GradAssert.Passes(v => Functional.MatMul(v[0], v[0], transposeA: true), "xᵀ·x", new TensorCase([9, 5], 2).Create());
    }

    [Fact]
    public void Sizes_past_the_blocked_kernel_threshold_have_correct_gradients()
    {
        // 33·40·29 multiply-adds is past the naive cut-off, so the packed kernel runs in forward and backward.
        using var a = Variable.Parameter(new TensorCase([33, 40], 3).Create());
        using var b = Variable.Parameter(new TensorCase([40, 29], 4).Create());
        using var y = Functional.MatMul(a, b);
        var g = new TensorCase([33, 29], 5);
        using (var seed = g.Create()) y.Backward(seed);
        var gv = g.Values();
        var av = a.Dense.ToArray();
        var bv = b.Dense.ToArray();
        Reference.AssertClose(Reference.MatMul(gv, false, bv, true, 33, 40, 29), a.Grad!.AsReadOnlySpan(),
            Reference.MatMul(Abs(gv), false, Abs(bv), true, 33, 40, 29), 1e-5, 1e-6, "dA = G·Bᵀ");
        Reference.AssertClose(Reference.MatMul(av, true, gv, false, 40, 29, 33), b.Grad!.AsReadOnlySpan(),
            Reference.MatMul(Abs(av), true, Abs(gv), false, 40, 29, 33), 1e-5, 1e-6, "dB = Aᵀ·G");
    }

    [Fact]
    public void Bad_shapes_and_spikes_are_named()
    {
        using var a = Variable.Parameter(Tensor.Zeros(3, 4));
        using var b = Variable.Parameter(Tensor.Zeros(5, 2));
        var e = Assert.Throws<ArgumentException>(() => Functional.MatMul(a, b));
        Assert.Equal("b", e.ParamName);
        Assert.Contains("[3, 4]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[5, 2]", e.Message, StringComparison.Ordinal);
        using var b2 = Variable.Parameter(Tensor.Zeros(5, 3));
        using var ok = Functional.MatMul(a, b2, transposeA: true, transposeB: true);
        Assert.Equal(new Shape(4, 5), ok.Shape);
        using var vector = Variable.Parameter(Tensor.Zeros(4));
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => Functional.MatMul(vector, b)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => Functional.MatMul(a, vector)).ParamName);
        using var batched = Variable.Parameter(Tensor.Zeros(2, 3, 4));
        Assert.Equal("transposeA", Assert.Throws<ArgumentException>(() => Functional.MatMul(batched, b, transposeA: true)).ParamName);
        using var spikes = Variable.Constant(SpikeTensor.Zeros(3, 4));
        var s = Assert.Throws<ArgumentException>(() => Functional.MatMul(spikes, b));
        Assert.Equal("a", s.ParamName);
        Assert.Contains("spikes", s.Message, StringComparison.Ordinal);
    }
}
