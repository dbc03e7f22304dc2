using System;
using Spiking.Autograd;
using Spiking.Layers;
using Spiking.Tensors;
using Spiking.Tests.Autograd;
using Xunit;

namespace Spiking.Tests.Layers;

public sealed class LayerLossTests
{
    private static float[] Normal(int count, int seed, double scale = 1)
    {
        var rng = new Random(seed);
        var v = new float[count];
        for (int i = 0; i < count; i++) v[i] = (float)(Reference.Normal(rng) * scale);
        return v;
    }

    private static int[] Labels(int batch, int classes, int seed)
    {
        var rng = new Random(seed);
        var labels = new int[batch];
        for (int i = 0; i < batch; i++) labels[i] = rng.Next(classes);
        return labels;
    }

    /// <summary>The mean over T of <c>[T, B, C]</c>, in double.</summary>
    private static double[] Rate(float[] output, int steps, int batch, int classes)
    {
        var rate = new double[batch * classes];
        for (int t = 0; t < steps; t++)
        {
            for (int i = 0; i < rate.Length; i++) rate[i] += output[t * rate.Length + i];
        }
        for (int i = 0; i < rate.Length; i++) rate[i] /= steps;
        return rate;
    }

    private static double Mse(double[] a, Func<int, double> target)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (a[i] - target(i)) * (a[i] - target(i));
        return sum / a.Length;
    }

    private static double CrossEntropy(double[] logits, int batch, int classes, int[] labels)
    {
        double total = 0;
        for (int r = 0; r < batch; r++)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < classes; j++) max = Math.Max(max, logits[r * classes + j]);
            double sum = 0;
            for (int j = 0; j < classes; j++) sum += Math.Exp(logits[r * classes + j] - max);
            total -= logits[r * classes + labels[r]] - max - Math.Log(sum);
        }
        return total / batch;
    }

    private static double TetReference(float[] output, int steps, int batch, int classes, int[] labels, double lambda, double phi)
    {
        int n = batch * classes;
        double ce = 0;
        for (int t = 0; t < steps; t++)
        {
            var step = new double[n];
            for (int i = 0; i < n; i++) step[i] = output[t * n + i];
            ce += CrossEntropy(step, batch, classes, labels);
        }
        ce /= steps;
        double mse = 0;
        foreach (var v in output) mse += (v - phi) * (v - phi);
        mse /= output.Length;
        return (1 - lambda) * ce + lambda * mse;
    }

    /// <summary>Asserts a scalar loss is within float rounding (1e-6 relative, plus 1e-6) of the double reference.</summary>
    private static void AssertLoss(double expected, Variable loss)
    {
        Assert.Equal(new Shape(), loss.Shape);
        Reference.AssertClose([expected], loss.Dense.AsReadOnlySpan(), default, 1e-6, 1e-6, "loss");
    }

    [Theory]
    [InlineData(4, 3, 10, 1)]
    [InlineData(1, 1, 1, 2)]
    [InlineData(8, 5, 7, 3)]
    public void FiringRateMse_matches_double(int steps, int batch, int classes, int seed)
    {
        var output = Normal(steps * batch * classes, seed);
        var labels = Labels(batch, classes, seed);
        using var x = Variable.Constant(Tensor.FromArray(output, steps, batch, classes));
        using var loss = Losses.FiringRateMse(x, labels);
        var rate = Rate(output, steps, batch, classes);
        double expected = Mse(rate, i => i % classes == labels[i / classes] ? 1 : 0);
        AssertLoss(expected, loss);

        var soft = Normal(batch * classes, seed + 7);
        using var target = Tensor.FromArray(soft, batch, classes);
        using var dense = Losses.FiringRateMse(x, target);
        AssertLoss(Mse(rate, i => soft[i]), dense);
    }

    [Fact]
    public void FiringRate_losses_take_spikes()
    {
        var c = new SpikeTrainCase(6, 4, 10, 0.3, 5);
        var labels = Labels(4, 10, 5);
        using var spikes = Variable.Constant(c.Create());
        var rate = Rate(c.Dense(), 6, 4, 10);
        using var mse = Losses.FiringRateMse(spikes, labels);
        AssertLoss(Mse(rate, i => i % 10 == labels[i / 10] ? 1 : 0), mse);
        using var ce = Losses.FiringRateCrossEntropy(spikes, labels);
        AssertLoss(CrossEntropy(rate, 4, 10, labels), ce);
        using var tet = Losses.Tet(spikes, labels, 0.2, 0.5);
        AssertLoss(TetReference(c.Dense(), 6, 4, 10, labels, 0.2, 0.5), tet);
    }

    [Theory]
    [InlineData(4, 3, 10, 1)]
    [InlineData(2, 6, 4, 2)]
    public void FiringRateCrossEntropy_matches_double(int steps, int batch, int classes, int seed)
    {
        var output = Normal(steps * batch * classes, seed, 3);
        var labels = Labels(batch, classes, seed);
        using var x = Variable.Constant(Tensor.FromArray(output, steps, batch, classes));
        using var loss = Losses.FiringRateCrossEntropy(x, labels);
        AssertLoss(CrossEntropy(Rate(output, steps, batch, classes), batch, classes, labels), loss);
    }

    [Theory]
    [InlineData(4, 3, 10, 1e-3, 1.0)]
    [InlineData(3, 5, 4, 0.3, 0.5)]
    [InlineData(2, 2, 3, 0.0, 1.0)]
    [InlineData(1, 4, 6, 1.0, -0.25)]
    public void Tet_matches_the_authors_formula_in_double(int steps, int batch, int classes, double lambda, double phi)
    {
        var output = Normal(steps * batch * classes, steps + batch, 2);
        var labels = Labels(batch, classes, classes);
        using var x = Variable.Constant(Tensor.FromArray(output, steps, batch, classes));
        using var loss = Losses.Tet(x, labels, lambda, phi);
        AssertLoss(TetReference(output, steps, batch, classes, labels, lambda, phi), loss);
    }

    [Fact]
    public void Loss_gradients_match_finite_differences()
    {
        const int steps = 3, batch = 2, classes = 4;
        var output = Normal(steps * batch * classes, 17);
        var labels = Labels(batch, classes, 17);
        using var soft = Tensor.FromArray(Normal(batch * classes, 18), batch, classes);
        Tensor Input() => Tensor.FromArray(output, steps, batch, classes);
        GradAssert.Passes(v => Losses.FiringRateMse(v[0], labels), "firing-rate MSE", Input());
        GradAssert.Passes(v => Losses.FiringRateMse(v[0], soft), "firing-rate MSE, dense target", Input());
        GradAssert.Passes(v => Losses.FiringRateCrossEntropy(v[0], labels), "firing-rate cross-entropy", Input());
        GradAssert.Passes(v => Losses.Tet(v[0], labels), "TET", Input());
        GradAssert.Passes(v => Losses.Tet(v[0], labels, 0.4, 0.5), "TET, lambda 0.4", Input());
        GradAssert.Passes(v => Losses.Tet(v[0], labels, 0), "TET, lambda 0", Input());
    }

    [Fact]
    public void Backward_reaches_the_output_through_the_loss()
    {
        using var x = Variable.Parameter(Tensor.FromArray([0.5f, 1f, 0f, 0.25f], 2, 1, 2));
        using var loss = Losses.FiringRateMse(x, [1]);
        loss.Backward();
        // rate = [0.25, 0.625]; d/dx = 2 (rate - onehot) / (B·C) / T.
        Assert.Equal([0.125f, -0.1875f, 0.125f, -0.1875f], x.Grad!.ToArray());
    }

    [Fact]
    public void Losses_reject_bad_shapes_and_labels_naming_them()
    {
        using var flat = Variable.Constant(Tensor.Zeros(4, 10));
        var e = Assert.Throws<ArgumentException>(() => Losses.FiringRateMse(flat, new int[4]));
        Assert.Equal("output", e.ParamName);
        Assert.Contains("[4, 10]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[T, B, C]", e.Message, StringComparison.Ordinal);

        using var x = Variable.Constant(Tensor.Zeros(2, 4, 10));
        var count = Assert.Throws<ArgumentException>(() => Losses.FiringRateCrossEntropy(x, new int[3]));
        Assert.Equal("labels", count.ParamName);
        Assert.Contains("3 labels", count.Message, StringComparison.Ordinal);
        var range = Assert.Throws<ArgumentOutOfRangeException>(() => Losses.Tet(x, [0, 1, 10, 2]));
        Assert.Equal("labels", range.ParamName);
        Assert.Contains("labels[2] = 10", range.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => Losses.Tet(x, [0, 1, -1, 2]));
        Assert.Equal("lambda", Assert.Throws<ArgumentOutOfRangeException>(() => Losses.Tet(x, [0, 1, 2, 3], 1.5)).ParamName);
        Assert.Equal("phi", Assert.Throws<ArgumentOutOfRangeException>(() => Losses.Tet(x, [0, 1, 2, 3], 0.1, double.NaN)).ParamName);
        using var target = Tensor.Zeros(4, 9);
        var t = Assert.Throws<ArgumentException>(() => Losses.FiringRateMse(x, target));
        Assert.Equal("target", t.ParamName);
        Assert.Contains("[4, 10]", t.Message, StringComparison.Ordinal);
    }
}
