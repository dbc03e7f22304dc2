using System;
using FsCheck.Xunit;
using Spiking.Autograd;
using Spiking.Layers;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Autograd;

public sealed class LayerNormTests
{
    /// <summary>
    /// Layer norm and its gradients in double: the input gradient from the full Jacobian of each row,
    /// <c>∂x̂_i/∂x_j = s·(δ_ij − 1/C) − s³·(x_i − m)(x_j − m)/C</c>, not from the closed form the op uses.
    /// </summary>
    internal static (double[] Y, double[] Dx, double[] Dw, double[] Db) Naive(float[] x, float[] w, float[] b, float[] g, int rows, int c, double eps = 1e-5)
    {
        var y = new double[x.Length];
        var dx = new double[x.Length];
        var dw = new double[c];
        var db = new double[c];
        for (int r = 0; r < rows; r++)
        {
            int o = r * c;
            double m = 0, v = 0;
            for (int i = 0; i < c; i++) m += x[o + i];
            m /= c;
            for (int i = 0; i < c; i++) v += (x[o + i] - m) * (x[o + i] - m);
            v /= c;
            double s = 1 / Math.Sqrt(v + eps);
            for (int i = 0; i < c; i++)
            {
                double xhat = (x[o + i] - m) * s;
                y[o + i] = xhat * w[i] + b[i];
                dw[i] += g[o + i] * xhat;
                db[i] += g[o + i];
            }
            for (int j = 0; j < c; j++)
            {
                double sum = 0;
                for (int i = 0; i < c; i++)
                {
                    double jacobian = s * ((i == j ? 1 : 0) - 1.0 / c) - s * s * s * (x[o + i] - m) * (x[o + j] - m) / c;
                    sum += (double)g[o + i] * w[i] * jacobian;
                }
                dx[o + j] = sum;
            }
        }
        return (y, dx, dw, db);
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 40)]
    public void Values_and_gradients_match_double(SequenceCase c)
    {
        int rows = c.B * c.T;
        var x = c.Normal(1, rows, c.C);
        // A per-row offset far larger than the spread: single-pass float statistics would lose the variance.
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < c.C; i++) x[r * c.C + i] = x[r * c.C + i] * 0.5f + (r % 3 - 1) * 300f;
        }
        var w = c.Normal(2, c.C);
        var b = c.Normal(3, c.C);
        var g = c.Normal(4, rows, c.C);
        var (ey, edx, edw, edb) = Naive(x, w, b, g, rows, c.C);
        using var xv = Variable.Parameter(Tensor.FromArray(x, c.B, c.T, c.C));
        using var wv = Variable.Parameter(Tensor.FromArray(w, c.C));
        using var bv = Variable.Parameter(Tensor.FromArray(b, c.C));
        using var y = Functional.LayerNorm(xv, wv, bv);
        Reference.AssertClose(ey, y.Dense.AsReadOnlySpan(), default, 1e-5, 1e-5, $"y {c}");
        using (var seed = Tensor.FromArray(g, c.B, c.T, c.C)) y.Backward(seed);
        Reference.AssertClose(edx, xv.Grad!.AsReadOnlySpan(), default, 1e-5, 1e-5, $"dx {c}");
        Reference.AssertClose(edw, wv.Grad!.AsReadOnlySpan(), default, 1e-5, 1e-5, $"dweight {c}");
        Reference.AssertClose(edb, bv.Grad!.AsReadOnlySpan(), default, 1e-5, 1e-5, $"dbias {c}");
    }

    [Property(Arbitrary = new[] { typeof(SmallGenerators) }, MaxTest = 20)]
    public void Every_input_passes_the_gradient_check(SequenceCase c)
    {
        // Each row spreads along a ramp with noise, so its std stays near C/√3 and the normalisation is close to
        // linear over the ±0.01 steps: a row of nearly equal values would bend within a step and fail the central
        // difference, not the op. One channel normalises to exactly the bias, a flat function the check also sees.
        var x = c.Normal(1, c.B, c.T, c.C);
        for (int i = 0; i < x.Length; i++) x[i] = 2f * (i % c.C) + 0.3f * x[i];
        GradAssert.Passes(v => Functional.LayerNorm(v[0], v[1], v[2]), c.ToString(), 1e-2, 2e-3,
            Tensor.FromArray(x, c.B, c.T, c.C),
            Tensor.FromArray(c.Normal(2, c.C), c.C),
            Tensor.FromArray(c.Normal(3, c.C), c.C));
    }

    [Fact]
    public void Wrong_shapes_and_eps_are_named()
    {
        using var x = Variable.Parameter(Tensor.Zeros(2, 3, 4));
        using var w4 = Variable.Parameter(Tensor.Ones(new Shape(4)));
        using var w3 = Variable.Parameter(Tensor.Ones(new Shape(3)));
        using var b4 = Variable.Parameter(Tensor.Zeros(4));
        using var b14 = Variable.Parameter(Tensor.Zeros(1, 4));
        using var scalar = Variable.Parameter(Tensor.Zeros(new Shape()));
        var weight = Assert.Throws<ArgumentException>(() => Functional.LayerNorm(x, w3, b4));
        Assert.Equal("weight", weight.ParamName);
        Assert.Contains("[3]", weight.Message, StringComparison.Ordinal);
        Assert.Contains("[2, 3, 4]", weight.Message, StringComparison.Ordinal);
        var bias = Assert.Throws<ArgumentException>(() => Functional.LayerNorm(x, w4, b14));
        Assert.Equal("bias", bias.ParamName);
        Assert.Contains("[1, 4]", bias.Message, StringComparison.Ordinal);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Functional.LayerNorm(scalar, w4, b4)).ParamName);
        Assert.Equal("eps", Assert.Throws<ArgumentOutOfRangeException>(() => Functional.LayerNorm(x, w4, b4, 0)).ParamName);
    }

    [Fact]
    public void Layer_has_PyTorch_names_and_initial_values()
    {
        using var layer = new LayerNorm(6);
        var names = new System.Collections.Generic.List<string>();
        foreach (var (name, _) in layer.NamedParameters()) names.Add(name);
        Assert.Equal(["weight", "bias"], names);
        Assert.All(layer.Weight.Value.ToArray(), v => Assert.Equal(1f, v));
        Assert.All(layer.Bias.Value.ToArray(), v => Assert.Equal(0f, v));
        float[] x = [1, 2, 3, 4, 5, 6, -1, -1, -1, -1, -1, 5];
        using var input = Variable.Constant(Tensor.FromArray(x, 2, 6));
        using var y = layer.Forward(input);
        var ones = new float[6];
        Array.Fill(ones, 1f);
        var (expected, _, _, _) = Naive(x, ones, new float[6], new float[12], 2, 6);
        Reference.AssertClose(expected, y.Dense.AsReadOnlySpan(), default, 1e-6, 1e-6, "layer");
    }
}

[Collection("Parallelism")]
public sealed class LayerNormThreadTests
{
    [Fact]
    public void One_and_two_threads_give_the_same_bits()
    {
        var c = new SequenceCase(4, 64, 600, 1, 8);
        int saved = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = 1;
            var one = Run(c);
            Parallelism.MaxThreads = 2;
            var two = Run(c);
            for (int i = 0; i < one.Length; i++) Reference.AssertBitwise(one[i], two[i], $"result {i}");
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }

    private static float[][] Run(SequenceCase c)
    {
        using var x = Variable.Parameter(Tensor.FromArray(c.Normal(1, c.B, c.T, c.C), c.B, c.T, c.C));
        using var w = Variable.Parameter(Tensor.FromArray(c.Normal(2, c.C), c.C));
        using var b = Variable.Parameter(Tensor.FromArray(c.Normal(3, c.C), c.C));
        using var y = Functional.LayerNorm(x, w, b);
        var value = y.Dense.ToArray();
        using (var seed = Tensor.FromArray(c.Normal(4, c.B, c.T, c.C), c.B, c.T, c.C)) y.Backward(seed);
        return [value, x.Grad!.ToArray(), w.Grad!.ToArray(), b.Grad!.ToArray()];
    }
}
