using System;
using System.Collections.Generic;
using System.Linq;
using Spiking.Autograd;
using Spiking.Layers;
using Spiking.Tensors;
using Spiking.Tests.Autograd;
using Xunit;

namespace Spiking.Tests.Layers;

/// <summary>
/// Meta-SpikeFormer's <see cref="RepConv"/> and its <see cref="BatchNormAndPad"/>: the border is the norm's response
/// to zero, its γ and β detached, and in evaluation mode the whole body (with the norm that follows it in the
/// attention) is one 3×3 convolution.
/// </summary>
public sealed class RepConvTests
{
    /// <summary>Random affine parameters and running statistics for every batch norm in <paramref name="module"/>, so no norm is the identity.</summary>
    internal static void RandomiseNorms(Module module, ulong seed)
    {
        var rng = new PhiloxGenerator(seed);
        foreach (var (_, m) in module.NamedModules())
        {
            if (m is not BatchNorm norm) continue;
            rng.FillNormal(norm.Weight.Value, 1f, 0.3f);
            rng.FillNormal(norm.Bias.Value, 0f, 0.5f);
            rng.FillNormal(norm.RunningMean, 0f, 0.5f);
            var variance = norm.RunningVar;
            rng.FillUniform(variance);
            var v = variance.AsSpan();
            for (int i = 0; i < v.Length; i++) v[i] = 0.5f + 1.5f * v[i];
        }
    }

    private static double[] Doubles(Tensor t) => t.ToArray().Select(v => (double)v).ToArray();

    /// <summary>Per-channel eval-mode scale and shift of a norm: <c>a = γ/√(σ² + ε)</c>, <c>b = β − μ·a</c>.</summary>
    private static (double[] A, double[] B) Affine(BatchNorm norm)
    {
        var g = Doubles(norm.Weight.Value);
        var beta = Doubles(norm.Bias.Value);
        var mean = Doubles(norm.RunningMean);
        var variance = Doubles(norm.RunningVar);
        var a = new double[g.Length];
        var b = new double[g.Length];
        for (int c = 0; c < g.Length; c++)
        {
            a[c] = g[c] / Math.Sqrt(variance[c] + norm.Eps);
            b[c] = beta[c] - mean[c] * a[c];
        }
        return (a, b);
    }

    /// <summary>
    /// A bound on the float rounding of either path, per output element. Every stage of the RepConv is a sum of
    /// products or an affine map, so running the stages on absolute values (|x|, |W|, |a|, |b|, the border |b₁|)
    /// bounds Σ|term| of every partial sum, scaled to the output: M. A float sum of n terms is within γ_n·Σ|term| of the
    /// exact one (γ_n = n·u/(1 − n·u), u = 2⁻²⁴; Higham, Accuracy and Stability of Numerical Algorithms, §3.1), and
    /// the error of a stage reaches the output multiplied by at most the absolute values of the stages after it, which
    /// M already carries. The unfused path chains sums of C (1×1), 9 (depthwise) and C (projection) terms and three
    /// affine maps; the fused one sums 9·C + 1 terms with weights rounded once from double. So each lies within
    /// γ_n·M of the exact value with n = 9·C + 2·C + 16, and they differ by at most 2·γ_n·M.
    /// </summary>
    private static double[] RoundingBound(RepConv conv, BatchNorm2d? following, Tensor x)
    {
        var body = (Sequential)conv.Children[0].Value;
        var w = Doubles(((Conv2d)body[0]).Weight.Value);
        var (a1, b1) = Affine(((BatchNormAndPad)body[1]).Norm);
        var tail = (Sequential)body[2];
        var d = Doubles(((DepthwiseConv2d)tail[0]).Weight.Value);
        var p = Doubles(((Conv2d)tail[1]).Weight.Value);
        var (a2, b2) = Affine((BatchNorm2d)tail[2]);
        var (a3, b3) = following is null ? (Enumerable.Repeat(1.0, conv.OutChannels).ToArray(), new double[conv.OutChannels]) : Affine(following);
        var s = x.Shape;
        int images = s[0] * s[1], c = s[2], h = s[3], wd = s[4], o = conv.OutChannels;
        var xs = Doubles(x);
        var bound = new double[images * o * h * wd];
        int n = 9 * c + 2 * c + 16;
        double u = Math.Pow(2, -24), gamma = n * u / (1 - n * u);
        var padded = new double[c * (h + 2) * (wd + 2)];
        var spatial = new double[c];
        for (int img = 0; img < images; img++)
        {
            for (int m = 0; m < c; m++)
            {
                for (int r = 0; r < h + 2; r++)
                {
                    for (int q = 0; q < wd + 2; q++)
                    {
                        double value = Math.Abs(b1[m]);
                        if (r >= 1 && r <= h && q >= 1 && q <= wd)
                        {
                            double sum = 0;
                            for (int i = 0; i < c; i++) sum += Math.Abs(w[m * c + i]) * Math.Abs(xs[((img * c + i) * h + r - 1) * wd + q - 1]);
                            value += Math.Abs(a1[m]) * sum;
                        }
                        padded[(m * (h + 2) + r) * (wd + 2) + q] = value;
                    }
                }
            }
            for (int r = 0; r < h; r++)
            {
                for (int q = 0; q < wd; q++)
                {
                    for (int m = 0; m < c; m++)
                    {
                        double sum = 0;
                        for (int k = 0; k < 9; k++) sum += Math.Abs(d[m * 9 + k]) * padded[(m * (h + 2) + r + k / 3) * (wd + 2) + q + k % 3];
                        spatial[m] = sum;
                    }
                    for (int oc = 0; oc < o; oc++)
                    {
                        double sum = 0;
                        for (int m = 0; m < c; m++) sum += Math.Abs(p[oc * c + m]) * spatial[m];
                        double magnitude = Math.Abs(a3[oc]) * (Math.Abs(a2[oc]) * sum + Math.Abs(b2[oc])) + Math.Abs(b3[oc]);
                        bound[((img * o + oc) * h + r) * wd + q] = 2 * gamma * magnitude;
                    }
                }
            }
        }
        return bound;
    }

    [Theory]
    [InlineData(3, 5, false)]
    [InlineData(8, 8, true)]
    [InlineData(16, 12, true)]
    [InlineData(24, 24, false)]
    public void The_fused_convolution_equals_the_rep_conv_and_its_norm_in_evaluation_mode(int inChannels, int outChannels, bool spikeInput)
    {
        ModelSeed.Seed(31);
        using var conv = new RepConv(inChannels, outChannels);
        using var following = new BatchNorm2d(outChannels);
        RandomiseNorms(conv, 32);
        RandomiseNorms(following, 33);
        conv.Eval();
        following.Eval();
        var rng = new PhiloxGenerator(34);
        using var dense = rng.Normal(new Shape(2, 3, inChannels, 5, 6));
        using var bits = SpikeTensor.FromThreshold(dense, 0.8f);
        using var x = spikeInput ? bits.ToTensor() : dense.Clone();
        using var fused = conv.Fuse(following);
        using var alone = conv.Fuse();
        Assert.Equal(new Shape(outChannels, inChannels, 3, 3), fused.Weight.Shape);
        Assert.Equal(1, fused.Padding);
        Assert.NotNull(fused.Bias);

        using var scope = DisposeScope.Begin();
        var input = spikeInput ? Variable.Constant(bits) : Variable.Constant(x);
        var unfusedBody = conv.Forward(input).Dense.ToArray();
        var unfused = following.Forward(conv.Forward(input)).Dense.ToArray();
        var actual = fused.Forward(input).Dense.ToArray();
        var actualAlone = alone.Forward(input).Dense.ToArray();
        Assert.Contains(unfused, v => Math.Abs(v) > 0.1);
        AssertWithin(RoundingBound(conv, following, x), unfused, actual, "with the following norm");
        AssertWithin(RoundingBound(conv, null, x), unfusedBody, actualAlone, "the body alone");
    }

    private static void AssertWithin(double[] bound, float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < actual.Length; i++)
        {
            Assert.True(Math.Abs(actual[i] - expected[i]) <= bound[i], $"{what} [{i}]: fused {actual[i]} vs unfused {expected[i]}, more than the rounding bound {bound[i]:G3}");
        }
    }

    [Fact]
    public void Fusion_refuses_other_convolutions_and_a_norm_of_other_width()
    {
        var quantized = MetaSpikeFormerLayers.Default with { Conv2d = spec => new RecordingConv(spec) };
        using var custom = new RepConv(4, 4, quantized);
        var e = Assert.Throws<InvalidOperationException>(() => custom.Fuse());
        Assert.Contains("RecordingConv", e.Message, StringComparison.Ordinal);
        using var conv = new RepConv(4, 6);
        using var norm = new BatchNorm2d(4);
        var wrong = Assert.Throws<ArgumentException>(() => conv.Fuse(norm));
        Assert.Contains("4 channels", wrong.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_border_is_the_norms_response_to_zero_from_the_statistics_after_the_update()
    {
        const int T = 2, B = 3, C = 4, H = 3, W = 2;
        const double Momentum = 0.1, Eps = 1e-5;
        using var layer = new BatchNormAndPad(C);
        RandomiseNorms(layer, 40);
        var gamma = Doubles(layer.Norm.Weight.Value);
        var beta = Doubles(layer.Norm.Bias.Value);
        var mean0 = Doubles(layer.Norm.RunningMean);
        var var0 = Doubles(layer.Norm.RunningVar);
        var rng = new PhiloxGenerator(41);
        using var x = rng.Normal(new Shape(T, B, C, H, W), 0.3f, 2f);
        var xs = Doubles(x);

        using var scope = DisposeScope.Begin();
        var y = layer.Forward(Variable.Constant(x));
        Assert.Equal(new Shape(T, B, C, H + 2, W + 2), y.Shape);
        var actual = y.Dense.ToArray();
        int count = T * B * H * W;
        for (int c = 0; c < C; c++)
        {
            double mean = 0, sq = 0;
            for (int img = 0; img < T * B; img++)
            {
                for (int i = 0; i < H * W; i++) mean += xs[(img * C + c) * H * W + i];
            }
            mean /= count;
            for (int img = 0; img < T * B; img++)
            {
                for (int i = 0; i < H * W; i++) sq += Math.Pow(xs[(img * C + c) * H * W + i] - mean, 2);
            }
            double runningMean = (1 - Momentum) * mean0[c] + Momentum * mean;
            double runningVar = (1 - Momentum) * var0[c] + Momentum * sq / (count - 1);
            double border = beta[c] - runningMean * gamma[c] / Math.Sqrt(runningVar + Eps);
            for (int img = 0; img < T * B; img++)
            {
                for (int r = 0; r < H + 2; r++)
                {
                    for (int q = 0; q < W + 2; q++)
                    {
                        bool inside = r >= 1 && r <= H && q >= 1 && q <= W;
                        double expected = inside ? (xs[((img * C + c) * H + r - 1) * W + q - 1] - mean) / Math.Sqrt(sq / count + Eps) * gamma[c] + beta[c] : border;
                        double got = actual[((img * C + c) * (H + 2) + r) * (W + 2) + q];
                        Assert.True(Math.Abs(got - expected) < 1e-5, $"channel {c}, image {img}, ({r}, {q}): {got} vs {expected}");
                    }
                }
            }
        }
    }

    [Fact]
    public void In_evaluation_mode_the_border_equals_the_norm_applied_to_zero()
    {
        using var layer = new BatchNormAndPad(5, padding: 2);
        RandomiseNorms(layer, 42);
        layer.Eval();
        using var scope = DisposeScope.Begin();
        var zero = Variable.Constant(Tensor.Zeros(1, 1, 5, 1, 1));
        var response = layer.Norm.Forward(zero).Dense.ToArray();
        var y = layer.Forward(Variable.Constant(new PhiloxGenerator(43).Normal(new Shape(1, 2, 5, 2, 2)))).Dense.ToArray();
        for (int img = 0; img < 2; img++)
        {
            for (int c = 0; c < 5; c++)
            {
                // The corner and one pixel of each side of the 6×6 map.
                foreach (int at in new[] { 0, 3, 6 * 2, 6 * 5 + 4, 6 * 3 + 5 })
                {
                    Assert.Equal(response[c], y[(img * 5 + c) * 36 + at], 6);
                }
            }
        }
    }

    [Fact]
    public void The_input_gradient_through_norm_and_border_matches_finite_differences()
    {
        // Momentum 0 keeps the running statistics, and so the border, fixed while the differences are taken; the
        // training-mode norm then carries its whole batch-statistics backward.
        using var layer = new BatchNormAndPad(3, padding: 1, momentum: 0);
        RandomiseNorms(layer, 44);
        GradAssert.Passes(v => layer.Forward(v[0]), "BatchNormAndPad (training)", new PhiloxGenerator(45).Normal(new Shape(2, 2, 3, 3, 2), 0.5f, 1.5f));
        layer.Eval();
        GradAssert.Passes(v => layer.Forward(v[0]), "BatchNormAndPad (evaluation)", new PhiloxGenerator(46).Normal(new Shape(1, 2, 3, 2, 2)));
    }

    [Fact]
    public void No_gradient_reaches_gamma_or_beta_through_the_border()
    {
        ModelSeed.Seed(47);
        using var layer = new BatchNormAndPad(3);
        using var twin = new BatchNorm2d(3);
        RandomiseNorms(layer, 48);
        RandomiseNorms(twin, 48);
        var rng = new PhiloxGenerator(49);
        using var x = rng.Normal(new Shape(2, 2, 3, 3, 4));
        using var weights = rng.Normal(new Shape(2, 2, 3, 5, 6));
        using var interior = Tensor.Empty(2, 2, 3, 3, 4);
        var all = weights.AsReadOnlySpan();
        var inner = interior.AsSpan();
        for (int m = 0; m < 12; m++)
        {
            for (int r = 0; r < 3; r++) all.Slice(m * 30 + (r + 1) * 6 + 1, 4).CopyTo(inner.Slice(m * 12 + r * 4, 4));
        }

        using (var scope = DisposeScope.Begin())
        {
            Functional.Sum(Functional.Multiply(layer.Forward(Variable.Constant(x)), Variable.Constant(weights))).Backward();
            Functional.Sum(Functional.Multiply(twin.Forward(Variable.Constant(x)), Variable.Constant(interior))).Backward();
        }
        GradAssert.Close(twin.Weight.Grad!.AsReadOnlySpan(), layer.Norm.Weight.Grad!.AsReadOnlySpan(), 1e-6, "γ gradient");
        GradAssert.Close(twin.Bias.Grad!.AsReadOnlySpan(), layer.Norm.Bias.Grad!.AsReadOnlySpan(), 1e-6, "β gradient");
        Assert.Contains(layer.Norm.Weight.Grad!.ToArray(), g => g != 0f);
    }

    [Fact]
    public void The_state_dict_has_the_official_names_and_shapes()
    {
        using var conv = new RepConv(6, 10);
        var entries = conv.StateDict().Select(e => (e.Name, e.Value is null ? "I64[]" : e.Value.Shape.ToString())).ToList();
        List<(string, string)> expected =
        [
            ("body.0.weight", "[6, 6, 1, 1]"),
            ("body.1.bn.weight", "[6]"), ("body.1.bn.bias", "[6]"), ("body.1.bn.running_mean", "[6]"), ("body.1.bn.running_var", "[6]"), ("body.1.bn.num_batches_tracked", "I64[]"),
            ("body.2.0.weight", "[6, 1, 3, 3]"),
            ("body.2.1.weight", "[10, 6, 1, 1]"),
            ("body.2.2.weight", "[10]"), ("body.2.2.bias", "[10]"), ("body.2.2.running_mean", "[10]"), ("body.2.2.running_var", "[10]"), ("body.2.2.num_batches_tracked", "I64[]"),
        ];
        Assert.Equal(expected, entries);
    }
}

/// <summary>A stand-in for a quantized convolution: a plain <see cref="Conv2d"/>'s entries and values under another type, remembering its spec.</summary>
internal sealed class RecordingConv : Module
{
    private readonly Module _inner;

    public RecordingConv(Conv2dSpec spec)
    {
        Spec = spec;
        _inner = spec.Depthwise
            ? new DepthwiseConv2d(spec.InChannels, spec.KernelSize, spec.Stride, spec.Padding, spec.Bias)
            : new Conv2d(spec.InChannels, spec.OutChannels, spec.KernelSize, spec.Stride, spec.Padding, spec.Bias);
        // The inner layer's entries are re-registered here so the names stay weight/bias, as a real replacement's would.
        foreach (var (name, p) in _inner.NamedParameters()) RegisterParameter(name, p.Value.Clone());
    }

    public Conv2dSpec Spec { get; }

    public override Variable Forward(Variable input)
    {
        var weight = NamedParameters().First(p => p.Name == "weight").Parameter;
        var bias = NamedParameters().FirstOrDefault(p => p.Name == "bias").Parameter;
        var s = input.Shape;
        var folded = Functional.Reshape(input, s[0] * s[1], s[2], s[3], s[4]);
        var y = Spec.Depthwise
            ? Functional.DepthwiseConv2d(folded, weight, bias?.Variable, Spec.Stride, Spec.Padding)
            : Functional.Conv2d(folded, weight, bias?.Variable, Spec.Stride, Spec.Padding);
        var ys = y.Shape;
        return Functional.Reshape(y, s[0], s[1], ys[1], ys[2], ys[3]);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _inner.Dispose();
        base.Dispose(disposing);
    }
}
