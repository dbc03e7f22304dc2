using System;
using FsCheck.Xunit;
using Spiking.Autograd;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Autograd;

public sealed class LossTests
{
    private static int[] Labels(int batch, int classes, int seed)
    {
        var rng = new Random(seed);
        var labels = new int[batch];
        for (int i = 0; i < batch; i++) labels[i] = rng.Next(classes);
        return labels;
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 40)]
    public void MseLoss_matches_double(TensorCase c)
    {
        var target = new TensorCase(c.Dims, c.Seed + 1);
        var x = c.Values();
        var t = target.Values();
        double sum = 0;
        for (int i = 0; i < x.Length; i++) sum += ((double)x[i] - t[i]) * ((double)x[i] - t[i]);
        using var input = Variable.Constant(c.Create());
        using var tt = target.Create();
        using var loss = Functional.MseLoss(input, tt);
        Assert.Equal(new Shape(), loss.Shape);
        Reference.AssertClose([sum / x.Length], loss.Dense.AsReadOnlySpan(), default, 1e-5, 0, $"mse {c}");
    }

    [Property(Arbitrary = new[] { typeof(SmallGenerators) }, MaxTest = 25)]
    public void MseLoss_gradient(TensorCase c)
    {
        using var target = new TensorCase(c.Dims, c.Seed + 1).Create();
        GradAssert.Passes(v => Functional.MseLoss(v[0], target), $"mse {c}", c.Create());
        // As a function of a variable used twice, the loss still gets the whole gradient.
        GradAssert.Passes(v => Functional.MseLoss(v[0] * v[0], target), $"mse of a square {c}", c.Create());
    }

    [Fact]
    public void MseLoss_gradient_is_two_times_the_difference_over_n()
    {
        using var x = Variable.Parameter(Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2));
        using var target = Tensor.FromArray([0f, 2f, 5f, 3f], 2, 2);
        using var loss = Functional.MseLoss(x, target);
        Assert.Equal((1f + 0f + 4f + 1f) / 4f, loss.Dense.ToScalar());
        loss.Backward();
        Assert.Equal([0.5f, 0f, -1f, 0.5f], x.Grad!.ToArray());
    }

    [Fact]
    public void MseLoss_names_the_target_and_both_shapes()
    {
        using var x = Variable.Parameter(Tensor.Zeros(4, 10));
        using var target = Tensor.Zeros(4, 1);
        var e = Assert.Throws<ArgumentException>(() => Functional.MseLoss(x, target));
        Assert.Equal("target", e.ParamName);
        Assert.Contains("[4, 1]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[4, 10]", e.Message, StringComparison.Ordinal);
        using var spikes = Variable.Constant(SpikeTensor.Zeros(4, 10));
        var s = Assert.Throws<ArgumentException>(() => Functional.MseLoss(spikes, target));
        Assert.Equal("input", s.ParamName);
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 40)]
    public void CrossEntropy_matches_double(ProductCase c)
    {
        int batch = c.M, classes = c.N;
        var logits = c.Normal(batch * classes, 1);
        for (int i = 0; i < logits.Length; i++) logits[i] *= 3f;
        var labels = Labels(batch, classes, c.Seed);
        using var x = Variable.Constant(Tensor.FromArray(logits, batch, classes));
        using var loss = Functional.CrossEntropy(x, labels);
        Assert.Equal(new Shape(), loss.Shape);
        double expected = Reference.CrossEntropy(logits, batch, classes, labels);
        Reference.AssertClose([expected], loss.Dense.AsReadOnlySpan(), default, 1e-5, 1e-6, $"cross entropy {c}");
    }

    [Property(Arbitrary = new[] { typeof(SmallGenerators) }, MaxTest = 25)]
    public void CrossEntropy_gradient(ProductCase c)
    {
        var labels = Labels(c.M, c.N, c.Seed);
        GradAssert.Passes(v => Functional.CrossEntropy(v[0], labels), $"cross entropy {c}",
            Tensor.FromArray(c.Normal(c.M * c.N, 1), c.M, c.N));
    }

    [Fact]
    public void CrossEntropy_gradient_is_softmax_minus_one_hot_over_the_batch()
    {
        float[] logits = [1f, 2f, 3f, 0f, 0f, 0f];
        using var x = Variable.Parameter(Tensor.FromArray(logits, 2, 3));
        using var loss = Functional.CrossEntropy(x, [2, 0]);
        loss.Backward();
        var p = Reference.Softmax(logits, [2, 3], 1, log: false);
        p[2] -= 1;
        p[3] -= 1;
        for (int i = 0; i < p.Length; i++) p[i] /= 2;
        Reference.AssertClose(p, x.Grad!.AsReadOnlySpan(), default, 1e-6, 1e-7, "dLogits");
    }

    [Fact]
    public void CrossEntropy_of_huge_logits_is_finite()
    {
        using var x = Variable.Parameter(Tensor.FromArray([1e4f, -1e4f, 0f, 1e4f, 1e4f - 1f, -5e3f], 2, 3));
        using var loss = Functional.CrossEntropy(x, [1, 0]);
        float value = loss.Dense.ToScalar();
        Assert.Equal(Reference.CrossEntropy([1e4f, -1e4f, 0f, 1e4f, 1e4f - 1f, -5e3f], 2, 3, [1, 0]), value, 1e-2);
        loss.Backward();
        foreach (float g in x.Grad!.AsReadOnlySpan()) Assert.False(float.IsNaN(g));
    }

    [Fact]
    public void CrossEntropy_takes_a_firing_rate_and_passes_the_gradient_back_to_the_spikes()
    {
        // Spikes [T=4, B=2, C=3] -> rate [2, 3] -> loss. dL/dS[t] = (softmax(rate) - onehot) / B / T at every step.
        var train = new SpikeTrainCase(4, 2, 3, 0.5, 21);
        using var u = Variable.Parameter(Tensor.FromSpan(ShapeOpTests.Shifted(train.Dense()), new Shape(4, 2, 3)));
        using var spikes = SpikeSourceNode.Apply(u);
        using var rate = Functional.MeanOverTime(spikes);
        int[] labels = [2, 1];
        using var loss = Functional.CrossEntropy(rate, labels);
        var rates = rate.Dense.ToArray();
        Assert.Equal(Reference.CrossEntropy(rates, 2, 3, labels), loss.Dense.ToScalar(), 1e-6);
        loss.Backward();
        var p = Reference.Softmax(rates, [2, 3], 1, log: false);
        var g = u.Grad!.AsReadOnlySpan();
        for (int t = 0; t < 4; t++)
        {
            for (int b = 0; b < 2; b++)
            {
                for (int k = 0; k < 3; k++)
                {
                    double expected = (p[b * 3 + k] - (labels[b] == k ? 1 : 0)) / 2 / 4;
                    Assert.True(Math.Abs(expected - g[(t * 2 + b) * 3 + k]) < 1e-7, $"step {t} row {b} class {k}");
                }
            }
        }
    }

    [Fact]
    public void CrossEntropy_rejects_bad_logits_and_labels()
    {
        using var x = Variable.Parameter(Tensor.Zeros(2, 3));
        var count = Assert.Throws<ArgumentException>(() => Functional.CrossEntropy(x, [0, 1, 2]));
        Assert.Equal("labels", count.ParamName);
        Assert.Contains("[2, 3]", count.Message, StringComparison.Ordinal);
        var range = Assert.Throws<ArgumentOutOfRangeException>(() => Functional.CrossEntropy(x, [0, 3]));
        Assert.Equal("labels", range.ParamName);
        Assert.Contains("labels[1] = 3", range.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => Functional.CrossEntropy(x, [-1, 0]));
        using var cube = Variable.Parameter(Tensor.Zeros(2, 3, 4));
        var rank = Assert.Throws<ArgumentException>(() => Functional.CrossEntropy(cube, [0, 1]));
        Assert.Equal("logits", rank.ParamName);
        Assert.Contains("[2, 3, 4]", rank.Message, StringComparison.Ordinal);
        using var empty = Variable.Parameter(Tensor.Zeros(0, 3));
        Assert.Throws<ArgumentException>(() => Functional.CrossEntropy(empty, []));
        using var spikes = Variable.Constant(SpikeTensor.Zeros(2, 3));
        var s = Assert.Throws<ArgumentException>(() => Functional.CrossEntropy(spikes, [0, 1]));
        Assert.Contains("SpikesToDense", s.Message, StringComparison.Ordinal);
    }
}
