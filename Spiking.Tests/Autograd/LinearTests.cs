using System;
using FsCheck.Xunit;
using Spiking.Autograd;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;
using Xunit;

namespace Spiking.Tests.Autograd;

public sealed class LinearTests
{
    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 30)]
    public void Dense_forward_matches_double(ProductCase c)
    {
        var x = c.Normal(c.M * c.K, 1);
        var w = c.Normal(c.N * c.K, 2);
        var b = c.Normal(c.N, 3);
        using var xv = Variable.Constant(Tensor.FromArray(x, c.M, c.K));
        using var wv = Variable.Constant(Tensor.FromArray(w, c.N, c.K));
        using var bv = Variable.Constant(Tensor.FromArray(b, c.N));
        using var y = Functional.Linear(xv, wv, bv);
        Assert.Equal(new Shape(c.M, c.N), y.Shape);
        var (expected, _) = Reference.SpikeForward(x, w, b, c.M, c.K, c.N);
        var (_, scale) = Reference.SpikeForward(MatMulTests.Abs(x), MatMulTests.Abs(w), MatMulTests.Abs(b), c.M, c.K, c.N);
        Reference.AssertClose(expected, y.Dense.AsReadOnlySpan(), scale, 1e-5, 1e-6, $"{c} with bias");
        using var noBias = Functional.Linear(xv, wv);
        var (plain, plainScale) = Reference.SpikeForward(x, w, null, c.M, c.K, c.N);
        Reference.AssertClose(plain, noBias.Dense.AsReadOnlySpan(), plainScale, 1e-5, 1e-6, $"{c} without bias");
    }

    [Property(Arbitrary = new[] { typeof(SmallGenerators) }, MaxTest = 20)]
    public void Dense_gradients_of_input_weight_and_bias(ProductCase c)
    {
        GradAssert.Passes(v => Functional.Linear(v[0], v[1], v[2]), $"{c}",
            Tensor.FromArray(c.Normal(c.M * c.K, 1), c.M, c.K),
            Tensor.FromArray(c.Normal(c.N * c.K, 2), c.N, c.K),
            Tensor.FromArray(c.Normal(c.N, 3), c.N));
        GradAssert.Passes(v => Functional.Linear(v[0], v[1]), $"{c} without bias",
            Tensor.FromArray(c.Normal(c.M * c.K, 1), c.M, c.K),
            Tensor.FromArray(c.Normal(c.N * c.K, 2), c.N, c.K));
        // [T, B, in] with T = 2: both leading axes fold into rows.
        GradAssert.Passes(v => Functional.Linear(v[0], v[1], v[2]), $"{c} over [2, M, K]",
            Tensor.FromArray(c.Normal(2 * c.M * c.K, 4), 2, c.M, c.K),
            Tensor.FromArray(c.Normal(c.N * c.K, 2), c.N, c.K),
            Tensor.FromArray(c.Normal(c.N, 3), c.N));
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 40)]
    public void Spike_path_equals_the_dense_path_on_the_same_bits(ProductCase c)
    {
        var bits = c.Spikes(c.M, c.K).Dense();
        var w = c.Normal(c.N * c.K, 2);
        var b = c.Normal(c.N, 3);
        var g = c.Normal(c.M * c.N, 4);

        using var u = Variable.Parameter(Tensor.FromArray(ShapeOpTests.Shifted(bits), c.M, c.K));
        using var spikes = SpikeSourceNode.Apply(u);
        using var ws = Variable.Parameter(Tensor.FromArray(w, c.N, c.K));
        using var bs = Variable.Parameter(Tensor.FromArray(b, c.N));
        using var cache = new TransposedWeightCache();
        using var ys = Functional.Linear(spikes, ws, bs, cache);

        using var xd = Variable.Parameter(Tensor.FromArray(bits, c.M, c.K));
        using var wd = Variable.Parameter(Tensor.FromArray(w, c.N, c.K));
        using var bd = Variable.Parameter(Tensor.FromArray(b, c.N));
        using var yd = Functional.Linear(xd, wd, bd);

        var (_, scale) = Reference.SpikeForward(bits, MatMulTests.Abs(w), MatMulTests.Abs(b), c.M, c.K, c.N);
        Reference.AssertClose(GradAssert.ToDouble(yd.Dense.AsReadOnlySpan()), ys.Dense.AsReadOnlySpan(), scale, 2e-5, 1e-6, $"{c} outputs");

        using (var seed = Tensor.FromArray(g, c.M, c.N)) ys.Backward(seed);
        using (var seed = Tensor.FromArray(g, c.M, c.N)) yd.Backward(seed);
        var (_, wScale) = Reference.SpikeWeightGradient(MatMulTests.Abs(g), bits, c.M, c.K, c.N);
        Reference.AssertClose(GradAssert.ToDouble(wd.Grad!.AsReadOnlySpan()), ws.Grad!.AsReadOnlySpan(), wScale, 2e-5, 1e-6, $"{c} dW");
        Reference.AssertClose(GradAssert.ToDouble(bd.Grad!.AsReadOnlySpan()), bs.Grad!.AsReadOnlySpan(), default, 1e-6, 1e-6, $"{c} db");
        // dX = G·W runs the same product on both paths: the gradient w.r.t. the spikes is the dense one exactly.
        Reference.AssertBitwise(xd.Grad!.AsReadOnlySpan(), u.Grad!.AsReadOnlySpan(), $"{c} dX");
        var (expectedDx, dxScale) = DxReference(g, w, c.M, c.K, c.N);
        Reference.AssertClose(expectedDx, u.Grad.AsReadOnlySpan(), dxScale, 1e-5, 1e-6, $"{c} dX vs double");
    }

    [Property(Arbitrary = new[] { typeof(SmallGenerators) }, MaxTest = 20)]
    public void Spike_path_weight_and_bias_gradients_check(ProductCase c)
    {
        using var spikes = Variable.Constant(c.Spikes(c.M, c.K).Create());
        GradAssert.Passes(v => Functional.Linear(spikes, v[0], v[1]), $"{c} spike input",
            Tensor.FromArray(c.Normal(c.N * c.K, 2), c.N, c.K),
            Tensor.FromArray(c.Normal(c.N, 3), c.N));
    }

    [Fact]
    public void Spike_input_over_time_and_batch_keeps_its_leading_axes()
    {
        var train = new SpikeTrainCase(3, 4, 70, 0.3, 17);
        var w = new TensorCase([5, 70], 2);
        using var u = Variable.Parameter(Tensor.FromSpan(ShapeOpTests.Shifted(train.Dense()), new Shape(3, 4, 70)));
        using var spikes = SpikeSourceNode.Apply(u);
        using var weight = Variable.Parameter(w.Create());
        using var y = Functional.Linear(spikes, weight);
        Assert.Equal(new Shape(3, 4, 5), y.Shape);
        var (expected, scale) = Reference.SpikeForward(train.Dense(), w.Values(), null, 12, 70, 5);
        Reference.AssertClose(expected, y.Dense.AsReadOnlySpan(), scale, 1e-5, 1e-6, "[T, B, N] spikes");
        using var loss = Functional.Sum(y);
        loss.Backward();
        Assert.Equal(new Shape(3, 4, 70), u.Grad!.Shape);
        Assert.Equal(new Shape(5, 70), weight.Grad!.Shape);
    }

    [Fact]
    public void The_saved_spikes_outlive_the_spike_variable_and_the_cache_is_reused()
    {
        var c = new ProductCase(6, 100, 7, 0.1, 5);
        var bits = c.Spikes(6, 100).Dense();
        using var weight = Variable.Parameter(Tensor.FromArray(c.Normal(700, 1), 7, 100));
        using var cache = new TransposedWeightCache();
        using var bitsTensor = Tensor.FromArray(bits, 6, 100);
        var spikes = Variable.Constant(SpikeTensor.FromBinary(bitsTensor));
        using var first = Functional.Linear(spikes, weight, null, cache);
        using var second = Functional.Linear(spikes, weight, null, cache);
        Assert.Equal(1, cache.Rebuilds);
        Assert.Equal(first.Dense.ToArray(), second.Dense.ToArray());
        spikes.Dispose();
        using var loss = Functional.Sum(first);
        loss.Backward();
        var (expected, scale) = Reference.SpikeWeightGradient(Ones(42), bits, 6, 100, 7);
        Reference.AssertClose(expected, weight.Grad!.AsReadOnlySpan(), scale, 1e-5, 1e-6, "dW from the saved bits");
        // An optimizer step writes the weight; the cache notices.
        weight.Dense.AsSpan()[0] += 1f;
        using var again = Variable.Constant(SpikeTensor.FromBinary(bitsTensor));
        using var third = Functional.Linear(again, weight, null, cache);
        Assert.Equal(2, cache.Rebuilds);
    }

    [Fact]
    public void Bad_shapes_are_named()
    {
        using var x = Variable.Parameter(Tensor.Zeros(4, 10));
        using var w = Variable.Parameter(Tensor.Zeros(3, 8));
        var e = Assert.Throws<ArgumentException>(() => Functional.Linear(x, w));
        Assert.Equal("x", e.ParamName);
        Assert.Contains("[4, 10]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[3, 8]", e.Message, StringComparison.Ordinal);
        using var spikes = Variable.Constant(SpikeTensor.Zeros(4, 10));
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Functional.Linear(spikes, w)).ParamName);
        using var w3 = Variable.Parameter(Tensor.Zeros(3, 10, 1));
        var r = Assert.Throws<ArgumentException>(() => Functional.Linear(x, w3));
        Assert.Equal("weight", r.ParamName);
        Assert.Contains("[out, in]", r.Message, StringComparison.Ordinal);
        using var good = Variable.Parameter(Tensor.Zeros(3, 10));
        using var bias = Variable.Parameter(Tensor.Zeros(4));
        var b = Assert.Throws<ArgumentException>(() => Functional.Linear(x, good, bias));
        Assert.Equal("bias", b.ParamName);
        Assert.Contains("[4]", b.Message, StringComparison.Ordinal);
        Assert.Contains("[3]", b.Message, StringComparison.Ordinal);
        using var spikeWeight = Variable.Constant(SpikeTensor.Zeros(3, 10));
        Assert.Equal("weight", Assert.Throws<ArgumentException>(() => Functional.Linear(x, spikeWeight)).ParamName);
        using var scalar = Variable.Parameter(Tensor.Scalar(1f));
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Functional.Linear(scalar, good)).ParamName);
    }

    private static float[] Ones(int n)
    {
        var v = new float[n];
        Array.Fill(v, 1f);
        return v;
    }

    /// <summary><c>dX[m, k] = Σ_n G[m, n]·W[n, k]</c> in double, with the sum of |terms|.</summary>
    private static (double[] Values, double[] Scale) DxReference(float[] g, float[] w, int m, int k, int n) =>
        (Reference.MatMul(g, false, w, false, m, k, n), Reference.MatMul(MatMulTests.Abs(g), false, MatMulTests.Abs(w), false, m, k, n));
}
