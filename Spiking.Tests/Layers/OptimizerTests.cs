using System;
using System.Collections.Generic;
using Spiking.Autograd;
using Spiking.Layers;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Layers;

public sealed class OptimizerTests
{
    /// <summary>Lengths with a whole number of vectors and a scalar tail.</summary>
    private static readonly int[] s_lengths = [37, 16];

    private const int Steps = 6;

    private static float[] Normal(int count, Random rng, double scale = 1)
    {
        var v = new float[count];
        for (int i = 0; i < count; i++) v[i] = (float)(Reference.Normal(rng) * scale);
        return v;
    }

    /// <summary>
    /// Parameters with random values, and per step a random gradient for each, except that the second parameter
    /// has none on step 2 (so it must be skipped and its state must not advance).
    /// </summary>
    private static (float[][] Initial, float[]?[][] Grads) Problem(int seed)
    {
        var rng = new Random(seed);
        var initial = new float[s_lengths.Length][];
        for (int p = 0; p < initial.Length; p++) initial[p] = Normal(s_lengths[p], rng);
        var grads = new float[Steps][][];
        for (int s = 0; s < Steps; s++)
        {
            grads[s] = new float[s_lengths.Length][];
            for (int p = 0; p < s_lengths.Length; p++) grads[s][p] = p == 1 && s == 2 ? null! : Normal(s_lengths[p], rng, 0.5);
        }
        return (initial, grads);
    }

    /// <summary>Runs the optimizer on <paramref name="grads"/> and returns the values after each step.</summary>
    private static float[][][] Run(float[][] initial, float[]?[][] grads, Func<IEnumerable<Parameter>, Optimizer> create)
    {
        var parameters = new Parameter[initial.Length];
        for (int p = 0; p < parameters.Length; p++) parameters[p] = new Parameter(Tensor.FromArray((float[])initial[p].Clone(), initial[p].Length), $"p{p}");
        try
        {
            var optimizer = create(parameters);
            var trace = new float[grads.Length][][];
            for (int s = 0; s < grads.Length; s++)
            {
                optimizer.ZeroGrad();
                for (int p = 0; p < parameters.Length; p++)
                {
                    if (grads[s][p] is { } g) parameters[p].Variable.Grad = Tensor.FromArray((float[])g.Clone(), g.Length);
                }
                optimizer.Step();
                trace[s] = new float[parameters.Length][];
                for (int p = 0; p < parameters.Length; p++) trace[s][p] = parameters[p].Value.ToArray();
            }
            return trace;
        }
        finally
        {
            foreach (var p in parameters) p.Dispose();
        }
    }

    /// <summary>torch.optim.SGD's update in double.</summary>
    private static double[][][] SgdReference(float[][] initial, float[]?[][] grads, double lr, double momentum, double dampening, double wd, bool nesterov)
    {
        var p = Array.ConvertAll(initial, a => Array.ConvertAll(a, v => (double)v));
        var buffers = new double[p.Length][];
        var trace = new double[grads.Length][][];
        for (int s = 0; s < grads.Length; s++)
        {
            for (int k = 0; k < p.Length; k++)
            {
                if (grads[s][k] is not { } grad) continue;
                var g = Array.ConvertAll(grad, v => (double)v);
                for (int i = 0; i < g.Length; i++) g[i] += wd * p[k][i];
                if (momentum != 0)
                {
                    if (buffers[k] is null) buffers[k] = (double[])g.Clone();
                    else for (int i = 0; i < g.Length; i++) buffers[k][i] = momentum * buffers[k][i] + (1 - dampening) * g[i];
                    for (int i = 0; i < g.Length; i++) g[i] = nesterov ? g[i] + momentum * buffers[k][i] : buffers[k][i];
                }
                for (int i = 0; i < g.Length; i++) p[k][i] -= lr * g[i];
            }
            trace[s] = Array.ConvertAll(p, a => (double[])a.Clone());
        }
        return trace;
    }

    /// <summary>torch.optim.Adam (or AdamW when <paramref name="decoupled"/>) in double.</summary>
    private static double[][][] AdamReference(float[][] initial, float[]?[][] grads, double lr, double b1, double b2, double eps, double wd, bool decoupled)
    {
        var p = Array.ConvertAll(initial, a => Array.ConvertAll(a, v => (double)v));
        var m = Array.ConvertAll(initial, a => new double[a.Length]);
        var v2 = Array.ConvertAll(initial, a => new double[a.Length]);
        var steps = new int[p.Length];
        var trace = new double[grads.Length][][];
        for (int s = 0; s < grads.Length; s++)
        {
            for (int k = 0; k < p.Length; k++)
            {
                if (grads[s][k] is not { } grad) continue;
                int step = ++steps[k];
                double bc1 = 1 - Math.Pow(b1, step), bc2 = 1 - Math.Pow(b2, step);
                for (int i = 0; i < grad.Length; i++)
                {
                    double g = grad[i];
                    if (decoupled) p[k][i] *= 1 - lr * wd;
                    else g += wd * p[k][i];
                    m[k][i] = b1 * m[k][i] + (1 - b1) * g;
                    v2[k][i] = b2 * v2[k][i] + (1 - b2) * g * g;
                    p[k][i] -= lr / bc1 * m[k][i] / (Math.Sqrt(v2[k][i]) / Math.Sqrt(bc2) + eps);
                }
            }
            trace[s] = Array.ConvertAll(p, a => (double[])a.Clone());
        }
        return trace;
    }

    private static void AssertTrace(double[][][] expected, float[][][] actual, string what)
    {
        for (int s = 0; s < expected.Length; s++)
        {
            for (int k = 0; k < expected[s].Length; k++)
            {
                Reference.AssertClose(expected[s][k], actual[s][k], default, 2e-6, 2e-6, $"{what}, step {s + 1}, parameter {k}");
            }
        }
    }

    [Theory]
    [InlineData(0.1, 0.0, 0.0, 0.0, false)]
    [InlineData(0.1, 0.9, 0.0, 0.0, false)]
    [InlineData(0.05, 0.9, 0.2, 0.0, false)]
    [InlineData(0.1, 0.9, 0.0, 0.0, true)]
    [InlineData(0.1, 0.8, 0.0, 0.01, false)]
    [InlineData(0.02, 0.5, 0.0, 0.1, true)]
    [InlineData(0.3, 0.0, 0.0, 0.05, false)]
    public void Sgd_matches_pytorchs_formulas(double lr, double momentum, double dampening, double wd, bool nesterov)
    {
        var (initial, grads) = Problem(1);
        var actual = Run(initial, grads, ps => new Sgd(ps, lr, momentum, dampening, wd, nesterov));
        AssertTrace(SgdReference(initial, grads, lr, momentum, dampening, wd, nesterov), actual, $"SGD lr {lr} momentum {momentum} dampening {dampening} wd {wd} nesterov {nesterov}");
    }

    [Theory]
    [InlineData(1e-3, 0.9, 0.999, 1e-8, 0.0)]
    [InlineData(1e-2, 0.9, 0.999, 1e-8, 0.1)]
    [InlineData(5e-2, 0.3, 0.9, 1e-3, 0.0)]
    [InlineData(1e-2, 0.0, 0.5, 1e-6, 0.01)]
    public void Adam_matches_pytorchs_formulas(double lr, double b1, double b2, double eps, double wd)
    {
        var (initial, grads) = Problem(2);
        var actual = Run(initial, grads, ps => new Adam(ps, lr, b1, b2, eps, wd));
        AssertTrace(AdamReference(initial, grads, lr, b1, b2, eps, wd, decoupled: false), actual, $"Adam lr {lr} betas ({b1}, {b2}) eps {eps} wd {wd}");
    }

    [Theory]
    [InlineData(1e-3, 0.9, 0.999, 1e-8, 1e-2)]
    [InlineData(1e-2, 0.9, 0.99, 1e-8, 0.5)]
    [InlineData(5e-2, 0.2, 0.9, 1e-4, 0.0)]
    public void AdamW_matches_pytorchs_formulas(double lr, double b1, double b2, double eps, double wd)
    {
        var (initial, grads) = Problem(3);
        var actual = Run(initial, grads, ps => new AdamW(ps, lr, b1, b2, eps, wd));
        AssertTrace(AdamReference(initial, grads, lr, b1, b2, eps, wd, decoupled: true), actual, $"AdamW lr {lr} betas ({b1}, {b2}) eps {eps} wd {wd}");
    }

    [Fact]
    public void Adam_counts_steps_per_parameter()
    {
        var (initial, grads) = Problem(4);
        var parameters = new[] { new Parameter(Tensor.FromArray(initial[0], initial[0].Length)), new Parameter(Tensor.FromArray(initial[1], initial[1].Length)) };
        var adam = new Adam(parameters);
        parameters[0].Variable.Grad = Tensor.FromArray(grads[0][0]!, initial[0].Length);
        int version = parameters[0].Value.Version;
        adam.Step();
        adam.Step();
        Assert.Equal(2, adam.StepCount(0));
        Assert.Equal(0, adam.StepCount(1));
        Assert.NotEqual(version, parameters[0].Value.Version);
        Assert.Equal(initial[1], parameters[1].Value.ToArray());
        adam.ZeroGrad();
        Assert.Null(parameters[0].Grad);
        foreach (var p in parameters) p.Dispose();
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("nesterov")]
    [InlineData("adam")]
    [InlineData("adamw")]
    public void Optimizers_minimise_a_quadratic(string kind)
    {
        var rng = new Random(5);
        var targetValues = Normal(20, rng);
        using var target = Tensor.FromArray(targetValues, 20);
        using var parameter = new Parameter(Tensor.Zeros(20), "w");
        Optimizer optimizer = kind switch
        {
            "sgd" => new Sgd([parameter], 5),
            "nesterov" => new Sgd([parameter], 1, momentum: 0.9, nesterov: true),
            "adam" => new Adam([parameter], 0.05),
            _ => new AdamW([parameter], 0.05, weightDecay: 1e-4),
        };
        double first = double.NaN, last = double.NaN;
        for (int step = 0; step < 400; step++)
        {
            optimizer.ZeroGrad();
            using var loss = Functional.MseLoss(parameter, target);
            last = loss.Dense.ToScalar();
            if (step == 0) first = last;
            loss.Backward();
            optimizer.Step();
        }
        Assert.True(last < first * 1e-4, $"{kind}: loss went from {first} to {last}");
        Reference.AssertClose(Array.ConvertAll(targetValues, v => (double)v), parameter.Value.AsReadOnlySpan(), default, 0, 5e-3, kind);
    }

    [Fact]
    public void Optimizers_reject_bad_hyperparameters_naming_them()
    {
        using var p = new Parameter(Tensor.Zeros(3), "w");
        Parameter[] ps = [p];
        var lr = Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(ps, -0.1));
        Assert.Equal("LearningRate", lr.ParamName);
        Assert.Contains("-0.1", lr.Message, StringComparison.Ordinal);
        Assert.Equal("momentum", Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(ps, 0.1, momentum: -1)).ParamName);
        Assert.Equal("weightDecay", Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(ps, 0.1, weightDecay: double.NaN)).ParamName);
        Assert.Equal("nesterov", Assert.Throws<ArgumentException>(() => new Sgd(ps, 0.1, nesterov: true)).ParamName);
        Assert.Equal("nesterov", Assert.Throws<ArgumentException>(() => new Sgd(ps, 0.1, 0.9, dampening: 0.1, nesterov: true)).ParamName);
        var beta = Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(ps, beta1: 1.0));
        Assert.Equal("beta1", beta.ParamName);
        Assert.Contains("[0, 1)", beta.Message, StringComparison.Ordinal);
        Assert.Equal("beta2", Assert.Throws<ArgumentOutOfRangeException>(() => new AdamW(ps, beta2: -0.1)).ParamName);
        Assert.Equal("epsilon", Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(ps, epsilon: -1e-8)).ParamName);
        Assert.Equal("parameters", Assert.Throws<ArgumentException>(() => new Adam([])).ParamName);
        Assert.Equal("parameters", Assert.Throws<ArgumentException>(() => new Adam([p, p])).ParamName);
        var sgd = new Sgd(ps, 0.1);
        Assert.Throws<ArgumentOutOfRangeException>(() => sgd.LearningRate = double.NaN);
        p.Variable.Grad = Tensor.Zeros(4);
        var shape = Assert.Throws<InvalidOperationException>(sgd.Step);
        Assert.Contains("[4]", shape.Message, StringComparison.Ordinal);
    }
}
