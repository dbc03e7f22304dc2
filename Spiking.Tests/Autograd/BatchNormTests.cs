using System;
using Spiking.Autograd;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Autograd;

public sealed class BatchNormTests
{
    public static TheoryData<string> GoldenCases() => Golden.CaseIds("batchnorm.json");

    [Theory]
    [MemberData(nameof(GoldenCases))]
    public void Training_matches_SpikingJelly(string id) => Golden.WithCase("batchnorm.json", id, c =>
    {
        var dims = Golden.Ints(c.GetProperty("shape"));
        // SpikingJelly's multi-step BatchNorm folds [T, B, C, ...] into [T·B, C, ...].
        var folded = new int[dims.Length - 1];
        folded[0] = dims[0] * dims[1];
        Array.Copy(dims, 2, folded, 1, dims.Length - 2);
        int channels = c.GetProperty("C").GetInt32();
        using var x = Variable.Parameter(Tensor.FromArray(Golden.Floats(c.GetProperty("x_seq")), folded));
        using var gamma = Variable.Parameter(Tensor.FromArray(Golden.Floats(c.GetProperty("gamma")), channels));
        using var beta = Variable.Parameter(Tensor.FromArray(Golden.Floats(c.GetProperty("beta")), channels));
        using var runningMean = Tensor.FromArray(Golden.Floats(c.GetProperty("running_mean_before")), channels);
        using var runningVar = Tensor.FromArray(Golden.Floats(c.GetProperty("running_var_before")), channels);
        using var y = Functional.BatchNorm(x, gamma, beta, runningMean, runningVar, training: true,
            c.GetProperty("momentum").GetDouble(), c.GetProperty("eps").GetDouble());
        using (var g = Tensor.FromArray(Golden.Floats(c.GetProperty("G")), folded)) y.Backward(g);
        Golden.AssertClose(Golden.Flat(c.GetProperty("y_seq")), y.Dense.AsReadOnlySpan(), $"{id} y");
        Golden.AssertClose(Golden.Flat(c.GetProperty("grad_x_seq")), x.Grad!.AsReadOnlySpan(), $"{id} grad_x");
        Golden.AssertClose(Golden.Flat(c.GetProperty("grad_gamma")), gamma.Grad!.AsReadOnlySpan(), $"{id} grad_gamma");
        Golden.AssertClose(Golden.Flat(c.GetProperty("grad_beta")), beta.Grad!.AsReadOnlySpan(), $"{id} grad_beta");
        Golden.AssertClose(Golden.Flat(c.GetProperty("running_mean_after")), runningMean.AsReadOnlySpan(), $"{id} running_mean");
        Golden.AssertClose(Golden.Flat(c.GetProperty("running_var_after")), runningVar.AsReadOnlySpan(), $"{id} running_var");
    });

    [Theory]
    [InlineData(new[] { 4, 3 }, true)]
    [InlineData(new[] { 3, 2, 5 }, true)]
    [InlineData(new[] { 2, 3, 3, 4 }, true)]
    [InlineData(new[] { 3, 2, 5 }, false)]
    [InlineData(new[] { 2, 3, 3, 4 }, false)]
    public void Dense_gradients_pass_the_gradient_check(int[] dims, bool training)
    {
        int channels = dims[1];
        var stats = new TensorCase([channels], 7).Values();
        GradAssert.Passes(v =>
        {
            using var rm = Tensor.FromArray((float[])stats.Clone(), channels);
            using var rv = GradAssert.Positive(new TensorCase([channels], 8), 0.5f);
            return Functional.BatchNorm(v[0], v[1], v[2], rm, rv, training);
        }, $"{Shape.Format(dims)} training {training}", 1e-2, 2e-3,
            new TensorCase(dims, 1).Create(),
            new TensorCase([channels], 2).Create(),
            new TensorCase([channels], 3).Create());
    }

    [Fact]
    public void Evaluation_uses_the_running_statistics_and_leaves_them()
    {
        float[] x = [1, 2, 3, 4, 5, 6, 7, 8];
        using var xv = Variable.Parameter(Tensor.FromArray(x, 2, 2, 2));
        using var gamma = Variable.Parameter(Tensor.FromArray([2f, 3f], 2));
        using var beta = Variable.Parameter(Tensor.FromArray([0.5f, -1f], 2));
        using var rm = Tensor.FromArray([1f, -2f], 2);
        using var rv = Tensor.FromArray([4f, 0.25f], 2);
        using var y = Functional.BatchNorm(xv, gamma, beta, rm, rv, training: false, eps: 1e-5);
        var expected = new double[8];
        for (int i = 0; i < 8; i++)
        {
            int c = i / 2 % 2;
            double m = c == 0 ? 1 : -2, v = c == 0 ? 4 : 0.25, g = c == 0 ? 2 : 3, b = c == 0 ? 0.5 : -1;
            expected[i] = (x[i] - m) / Math.Sqrt(v + 1e-5) * g + b;
        }
        Golden.AssertClose(expected, y.Dense.AsReadOnlySpan(), "eval y");
        Assert.Equal([1f, -2f], rm.ToArray());
        Assert.Equal([4f, 0.25f], rv.ToArray());
    }

    [Fact]
    public void Spike_input_equals_dense_input_on_the_same_bits()
    {
        int[] dims = [4, 3, 5, 70];
        var bits = new SpikeCase(4 * 3 * 5, 70, 0.3, 2).Dense();
        var g = new TensorCase(dims, 5).Values();
        var gammaValues = new TensorCase([3], 3).Values();
        var betaValues = new TensorCase([3], 4).Values();
        using var u = Variable.Parameter(Tensor.FromArray(ShapeOpTests.Shifted(bits), dims));
        using var spikes = SpikeSourceNode.Apply(u);
        using var xd = Variable.Parameter(Tensor.FromArray(bits, dims));
        using var gs = Variable.Parameter(Tensor.FromArray(gammaValues, 3));
        using var gd = Variable.Parameter(Tensor.FromArray(gammaValues, 3));
        using var bs = Variable.Parameter(Tensor.FromArray(betaValues, 3));
        using var bd = Variable.Parameter(Tensor.FromArray(betaValues, 3));
        using var rms = Tensor.Zeros(3);
        using var rvs = Tensor.Ones(new Shape(3));
        using var rmd = Tensor.Zeros(3);
        using var rvd = Tensor.Ones(new Shape(3));
        using var ys = Functional.BatchNorm(spikes, gs, bs, rms, rvs, training: true);
        using var yd = Functional.BatchNorm(xd, gd, bd, rmd, rvd, training: true);
        Reference.AssertBitwise(yd.Dense.AsReadOnlySpan(), ys.Dense.AsReadOnlySpan(), "y");
        Reference.AssertBitwise(rmd.AsReadOnlySpan(), rms.AsReadOnlySpan(), "running mean");
        Reference.AssertBitwise(rvd.AsReadOnlySpan(), rvs.AsReadOnlySpan(), "running var");
        using (var seed = Tensor.FromArray(g, dims)) ys.Backward(seed);
        using (var seed = Tensor.FromArray(g, dims)) yd.Backward(seed);
        Reference.AssertBitwise(xd.Grad!.AsReadOnlySpan(), u.Grad!.AsReadOnlySpan(), "dx");
        Reference.AssertBitwise(gd.Grad!.AsReadOnlySpan(), gs.Grad!.AsReadOnlySpan(), "dgamma");
        Reference.AssertBitwise(bd.Grad!.AsReadOnlySpan(), bs.Grad!.AsReadOnlySpan(), "dbeta");
    }

    [Fact]
    public void Shape_errors_name_the_shapes()
    {
        using var x = Variable.Constant(Tensor.Zeros(2, 3, 4));
        using var gamma = Variable.Constant(Tensor.Zeros(4));
        using var beta = Variable.Constant(Tensor.Zeros(3));
        using var rm = Tensor.Zeros(3);
        using var rv = Tensor.Ones(new Shape(3));
        var e = Assert.Throws<ArgumentException>(() => Functional.BatchNorm(x, gamma, beta, rm, rv, true));
        Assert.Contains("[4]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[2, 3, 4]", e.Message, StringComparison.Ordinal);
        Assert.Equal("gamma", e.ParamName);
        using var one = Variable.Constant(Tensor.Zeros(1, 3));
        e = Assert.Throws<ArgumentException>(() => Functional.BatchNorm(one, beta, beta, rm, rv, true));
        Assert.Contains("[1, 3]", e.Message, StringComparison.Ordinal);
    }
}
