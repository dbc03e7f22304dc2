using System;
using Spiking.Autograd;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Autograd;

public sealed class DropoutTests
{
    private static Tensor Ramp(int rows, int cols)
    {
        var v = new float[rows * cols];
        for (int i = 0; i < v.Length; i++) v[i] = 0.5f + (i % 13) * 0.25f;
        return Tensor.FromArray(v, rows, cols);
    }

    [Theory]
    [InlineData(0.1f)]
    [InlineData(0.5f)]
    [InlineData(0.9f)]
    public void Kept_elements_are_scaled_and_the_gradient_uses_the_same_mask(float p)
    {
        using var x = Variable.Parameter(Ramp(37, 70));
        using var y = Functional.Dropout(x, p, training: true, new PhiloxGenerator(42));
        var xs = x.Dense.ToArray();
        var ys = y.Dense.ToArray();
        using var seed = Tensor.Full(y.Shape, 2f);
        y.Backward(seed);
        var g = x.Grad!.ToArray();
        float scale = 1f / (1f - p);
        int kept = 0;
        for (int i = 0; i < xs.Length; i++)
        {
            if (ys[i] == 0f)
            {
                Assert.Equal(0f, g[i]);
            }
            else
            {
                kept++;
                Assert.Equal(xs[i] * scale, ys[i]);
                Assert.Equal(2f * scale, g[i]);
            }
        }
        // Kept fraction within 5 sigma of 1 - p.
        double n = xs.Length, sigma = Math.Sqrt(p * (1 - p) / n);
        Assert.True(Math.Abs(kept / n - (1 - p)) < 5 * sigma, $"kept {kept} of {n} at p = {p}");
    }

    [Theory]
    [InlineData(0.2f)]
    [InlineData(0.5f)]
    [InlineData(0.8f)]
    public void The_expected_value_is_preserved(float p)
    {
        const int n = 200_000;
        using var x = Variable.Constant(Tensor.Full(new Shape(n), 1.5f));
        using var y = Functional.Dropout(x, p, training: true, new PhiloxGenerator(7, stream: 3));
        double mean = 0;
        foreach (float v in y.Dense.AsReadOnlySpan()) mean += v;
        mean /= n;
        // Each output is 1.5/(1-p) with probability 1-p, else 0: its standard deviation is 1.5·sqrt(p/(1-p)).
        double sigma = 1.5 * Math.Sqrt(p / (1 - p)) / Math.Sqrt(n);
        Assert.True(Math.Abs(mean - 1.5) < 5 * sigma, $"mean {mean} vs 1.5 (sigma {sigma}) at p = {p}");
    }

    [Fact]
    public void The_same_seed_gives_the_same_mask_and_the_generator_moves_on()
    {
        using var x = Variable.Constant(Ramp(8, 100));
        var gen = new PhiloxGenerator(123);
        using var a = Functional.Dropout(x, 0.5f, true, new PhiloxGenerator(123));
        using var b = Functional.Dropout(x, 0.5f, true, gen);
        Assert.Equal(a.Dense.ToArray(), b.Dense.ToArray());
        using var c = Functional.Dropout(x, 0.5f, true, gen);
        Assert.NotEqual(a.Dense.ToArray(), c.Dense.ToArray());
        using var d = Functional.Dropout(x, 0.5f, true, new PhiloxGenerator(124));
        Assert.NotEqual(a.Dense.ToArray(), d.Dense.ToArray());
    }

    [Fact]
    public void Eval_mode_and_p_zero_are_the_identity_and_draw_nothing()
    {
        using var x = Variable.Parameter(Ramp(3, 5));
        var gen = new PhiloxGenerator(1);
        using var eval = Functional.Dropout(x, 0.5f, training: false, gen);
        using var zero = Functional.Dropout(x, 0f, training: true, gen);
        Assert.Equal(0UL, gen.Offset);
        Assert.NotSame(x, eval);
        Assert.Equal(x.Dense.ToArray(), eval.Dense.ToArray());
        Assert.Equal(x.Dense.ToArray(), zero.Dense.ToArray());
        using var loss = Functional.Sum(eval * 3f + zero);
        loss.Backward();
        Assert.All(x.Grad!.ToArray(), g => Assert.Equal(4f, g));
    }

    [Fact]
    public void Dropout_on_spikes_keeps_a_subset_of_them_and_returns_the_gradient_to_the_spikes()
    {
        var train = new SpikeTrainCase(2, 3, 130, 0.5, 4);
        using var u = Variable.Parameter(Tensor.FromSpan(ShapeOpTests.Shifted(train.Dense()), new Shape(2, 3, 130)));
        using var spikes = SpikeSourceNode.Apply(u);
        using var y = Functional.Dropout(spikes, 0.25f, true, new PhiloxGenerator(5));
        Assert.False(y.IsSpikes);
        var s = train.Dense();
        var ys = y.Dense.ToArray();
        using var loss = Functional.Sum(y);
        loss.Backward();
        var g = u.Grad!.ToArray();
        int dropped = 0;
        for (int i = 0; i < s.Length; i++)
        {
            Assert.True(ys[i] == 0f || (s[i] == 1f && ys[i] == 1f / 0.75f), $"element {i}: {ys[i]} from spike {s[i]}");
            Assert.True(g[i] == 0f || g[i] == 1f / 0.75f);
            if (s[i] == 1f && ys[i] == 0f) Assert.Equal(0f, g[i]);
            if (g[i] == 0f) dropped++;
        }
        Assert.InRange(dropped, 1, s.Length - 1);
    }

    [Fact]
    public void The_gradient_checks_with_a_fixed_mask()
    {
        // A fresh generator with the same seed per evaluation keeps the mask fixed across finite differences.
        GradAssert.Passes(v => Functional.Dropout(v[0], 0.4f, true, new PhiloxGenerator(9)), "dropout",
            new TensorCase([5, 7], 3).Create());
        GradAssert.Passes(v => Functional.Dropout(v[0], 0.4f, true, new PhiloxGenerator(9)), "dropout of a scalar",
            Tensor.Scalar(1.25f));
    }

    [Theory]
    [InlineData(1f)]
    [InlineData(-0.1f)]
    [InlineData(1.5f)]
    [InlineData(float.NaN)]
    public void P_outside_zero_to_one_is_rejected_by_name(float p)
    {
        using var x = Variable.Parameter(Tensor.Zeros(2, 2));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Functional.Dropout(x, p, true, new PhiloxGenerator(0)));
        Assert.Equal("p", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => Functional.Dropout(x, p, false, new PhiloxGenerator(0)));
    }
}
