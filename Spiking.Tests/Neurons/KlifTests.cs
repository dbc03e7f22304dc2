using System;
using System.Collections.Generic;
using FsCheck.Xunit;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Cli.Neurons;
using Spiking.Layers;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Neurons;

/// <summary>
/// A naive double-precision KLIF and its backward through time, written from the golden README's equations: the
/// forward with <c>if</c>s for the spike, the relu and the reset; the backward as the chain rule through each branch,
/// the reset's spike and the divisions by k written out case by case (not through the kernel's reset rules).
/// </summary>
public static class KlifReference
{
    public static ReferenceRun Run(KlifNeuron model, double k, float[] x, float[] g, int steps)
    {
        int m = x.Length / steps;
        double theta = model.VThreshold, vr = model.ResetPotential, kTau = 1.0 / model.Tau;
        bool hard = model.HardReset, detach = model.DetachReset, scale = model.ScaleReset;
        var h = new double[x.Length];
        var f = new double[x.Length];
        var v = new double[x.Length];
        var s = new double[x.Length];
        var distance = new double[x.Length];
        for (int i = 0; i < m; i++)
        {
            double state = vr;
            for (int t = 0; t < steps; t++)
            {
                int e = t * m + i;
                double hv = model.DecayInput ? state + (x[e] - (state - vr)) * kTau : state - (state - vr) * kTau + x[e];
                double fv = Math.Max(k * hv, 0);
                bool spike = fv >= theta;
                if (scale) state = hard ? (spike ? vr : fv / k) : (fv - (spike ? theta : 0)) / k;
                else state = hard ? (spike ? vr : fv) : fv - (spike ? theta : 0);
                (h[e], f[e], v[e], s[e]) = (hv, fv, state, spike ? 1 : 0);
                // Where relu clamps, f − θ is exactly −θ in float and double alike, even on a surrogate's jump.
                double jump = fv > 0 ? ModelHarness.SurrogateJumpDistance(model.Surrogate, fv - theta) : double.PositiveInfinity;
                distance[e] = Math.Min(Math.Min(Math.Abs(fv - theta), Math.Abs(k * hv)), jump);
            }
        }

        var gx = new double[x.Length];
        var gxScale = new double[x.Length];
        double gk = 0, gkScale = 0;
        for (int i = 0; i < m; i++)
        {
            double gv = 0, gvScale = 0; // dL/dv_t from step t+1, and the sum of its |terms|
            for (int t = steps - 1; t >= 0; t--)
            {
                int e = t * m + i;
                double sg = NeuronReference.SurrogateDerivative(model.Surrogate!, f[e] - theta);
                double dvds, dvdf, dvdk = 0;
                if (scale)
                {
                    dvds = hard ? vr - f[e] / k : -theta / k;
                    dvdf = hard ? (1 - s[e]) / k : 1 / k;
                    dvdk = hard ? -(1 - s[e]) * f[e] / (k * k) : -(f[e] - s[e] * theta) / (k * k);
                }
                else
                {
                    dvds = hard ? vr - f[e] : -theta;
                    dvdf = hard ? 1 - s[e] : 1;
                }
                double gs = g[e] + (detach ? 0 : gv * dvds);
                double gf = gs * sg + gv * dvdf;
                bool passes = k * h[e] > 0;
                double gh = passes ? gf * k : 0;
                double ghScale = passes ? ((Math.Abs(g[e]) + (detach ? 0 : gvScale * Math.Abs(dvds))) * Math.Abs(sg) + gvScale * Math.Abs(dvdf)) * Math.Abs(k) : 0;
                double termF = passes ? gf * h[e] : 0, termReset = gv * dvdk;
                gk += termF + termReset;
                gkScale += Math.Abs(termF) + Math.Abs(termReset);
                gx[e] = model.DecayInput ? gh * kTau : gh;
                gxScale[e] = model.DecayInput ? ghScale * kTau : ghScale;
                gv = gh * (1 - kTau);
                gvScale = ghScale * (1 - kTau);
            }
        }
        return new ReferenceRun
        {
            Output = s,
            Traces = new Dictionary<string, double[]> { ["h"] = h, ["f"] = f, ["v"] = v },
            GradX = gx,
            GradXScale = gxScale,
            GradParameters = [gk],
            GradParameterScales = [gkScale],
            Distance = distance,
        };
    }
}

/// <summary>SpikingJelly's KLIFNode (<see cref="KlifNeuron"/>): against the double reference, the op composition, the golden cases, single steps and split sequences.</summary>
public sealed class KlifTests
{
    public static TheoryData<bool, bool, bool, bool> Variants()
    {
        var data = new TheoryData<bool, bool, bool, bool>();
        foreach (bool decay in new[] { true, false })
        {
            foreach (bool hard in new[] { true, false })
            {
                foreach (bool detach in new[] { true, false })
                {
                    foreach (bool scale in new[] { true, false }) data.Add(decay, hard, detach, scale);
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Every_charge_reset_detach_and_scale_matches_the_double_reference(bool decayInput, bool hard, bool detach, bool scaleReset)
    {
        // Rows of 70 neurons: two words per row, vector tails; 4 x 6 rows per step; 7 steps.
        Check(new KlifCase([7, 4, 6, 70], decayInput, hard, detach, scaleReset, "ATan", 1f, -0.2f, 2.0, 1.3f, 42));
    }

    [Theory]
    [InlineData(3, 2, 4100)] // rows longer than a chunk: one row per chunk
    [InlineData(4, 300, 28)] // many short rows: several chunks and a partial one
    [InlineData(2, 5000, 1)] // rows of one neuron
    [InlineData(5, 3, 63)]
    public void Chunk_and_row_edges_match_the_double_reference(int steps, int rows, int rowLength) =>
        Check(new KlifCase([steps, rows, rowLength], true, false, false, true, "Sigmoid", 1f, 0f, 2.0, 0.8f, 7));

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 40)]
    public void Random_problems_match_the_double_reference(KlifCase c) => Check(c);

    [Theory]
    [MemberData(nameof(Variants))]
    public void The_fused_op_equals_its_composition_from_ops(bool decayInput, bool hard, bool detach, bool scaleReset)
    {
        var c = new KlifCase([5, 3, 37], decayInput, hard, detach, scaleReset, "Sigmoid", 1f, 0f, 2.0, 1.3f, 11);
        var model = c.Model();
        var (x, g) = c.Inputs();
        var fused = ModelHarness.Multi(model, [c.K], x, g, c.Shape);
        var composed = ModelHarness.Composed((input, p) => ComposedNeurons.Klif(input, model, p[0]), [c.K], x, g, c.Shape);
        Assert.Equal(composed.Output, fused.Output);
        Golden.AssertClose(Array.ConvertAll(composed.GradX, v => (double)v), fused.GradX, "dL/dx", rel: 1e-5, abs: 1e-6);
        Golden.AssertClose([composed.GradParameters[0]], fused.GradParameters, "dL/dk", rel: 1e-4, abs: 1e-5);
    }

    public static TheoryData<string> GoldenCases() => ModelHarness.GoldenMoreCases("KLIFNode");

    [Theory]
    [MemberData(nameof(GoldenCases))]
    public void Every_golden_case_passes_the_conformance_check(string id) => ModelHarness.AssertGoldenMoreCasePasses(id);

    [Theory]
    [InlineData(true, false, true)]
    [InlineData(false, true, false)]
    [InlineData(true, true, true)]
    public void Single_steps_and_a_split_sequence_equal_one_call(bool hard, bool detach, bool scaleReset)
    {
        var c = new KlifCase([6, 3, 70], true, hard, detach, scaleReset, "Sigmoid", 1f, -0.25f, 1.5, 1.3f, 123);
        var model = c.Model();
        var (x, g) = c.Inputs();
        var multi = ModelHarness.Multi(model, [c.K], x, g, c.Shape);
        ModelHarness.AssertSame(multi, ModelHarness.SingleSteps(model, [c.K], x, g, c.Shape), "single steps");
        var split = ModelHarness.Split(model, [c.K], x, g, c.Shape, first: 2);
        ModelHarness.AssertSame(multi, split, "split at step 2");
        Reference.AssertBitwise(multi.Traces["v"].AsSpan(5 * 210, 210), split.Traces["v_final"], "carried v");
    }

    [Fact]
    public void K_starts_at_one_and_the_layer_learns_it_by_name()
    {
        using var layer = new SpikingNeuron(new KlifNeuron());
        var (name, k) = Assert.Single(layer.NamedParameters());
        Assert.Equal("k", name);
        Assert.Equal(1f, k.Value.ToScalar());
        using var x = Variable.Input(Tensor.Full(new Shape(3, 2), 1.5f));
        using var y = layer.Forward(x);
        y.Backward(Tensor.Full(new Shape(3, 2), 1f));
        Assert.NotNull(k.Variable.Grad);
    }

    [Fact]
    public void Defaults_settings_and_names_are_SpikingJellys()
    {
        var model = KlifNeuron.FromSpikingJelly(new NeuronSettings("KLIFNode", new Dictionary<string, object?>()));
        Assert.Equal((false, 2.0, true, 1f, (float?)0f, false), (model.ScaleReset, model.Tau, model.DecayInput, model.VThreshold, model.VReset, model.DetachReset));
        Assert.IsType<Sigmoid>(model.Surrogate);
        Assert.Equal("KLIF(scale_reset=False, tau=2, decay_input=True, v_threshold=1, v_reset=0, detach_reset=False, surrogate=Sigmoid(alpha=4))", model.ToString());
        var scaled = KlifNeuron.FromSpikingJelly(new NeuronSettings("KLIFNode", new Dictionary<string, object?>
        {
            ["scale_reset"] = true, ["tau"] = 3.0, ["decay_input"] = false, ["v_reset"] = null, ["surrogate_function"] = new Dictionary<string, object?> { ["name"] = "ATan", ["params"] = null },
        }));
        Assert.Equal((true, 3.0, false, (float?)null), (scaled.ScaleReset, scaled.Tau, scaled.DecayInput, scaled.VReset));
        Assert.IsType<ATan>(scaled.Surrogate);
        Assert.Equal(["v"], model.StateNames);
        Assert.Equal(["h", "f"], model.SavedNames);
    }

    [Fact]
    public void Invalid_settings_name_the_setting()
    {
        Assert.Equal("tau", Assert.Throws<ArgumentOutOfRangeException>(() => new KlifNeuron { Tau = 1.0 }).ParamName);
        Assert.Equal("tau", Assert.Throws<ArgumentOutOfRangeException>(() => new KlifNeuron { Tau = double.NaN }).ParamName);
        Assert.Equal("v_threshold", Assert.Throws<ArgumentOutOfRangeException>(() => new KlifNeuron { VThreshold = float.PositiveInfinity }).ParamName);
        Assert.Equal("v_reset", Assert.Throws<ArgumentOutOfRangeException>(() => new KlifNeuron { VReset = float.NaN }).ParamName);
        var wrongType = Assert.Throws<ArgumentException>(() => KlifNeuron.FromSpikingJelly(new NeuronSettings("KLIFNode", new Dictionary<string, object?> { ["scale_reset"] = 1.0 })));
        Assert.Equal("scale_reset", wrongType.ParamName);
        var unknown = new NeuronSettings("KLIFNode", new Dictionary<string, object?> { ["k"] = 1.0 });
        KlifNeuron.FromSpikingJelly(unknown);
        Assert.Equal("k", Assert.Throws<ArgumentException>(unknown.RejectUnknown).ParamName);
    }

    [Fact]
    public void A_scaled_reset_refuses_k_of_zero_naming_it()
    {
        using var x = Variable.Input(Tensor.Zeros(2, 3));
        using var k = Variable.Parameter(Tensor.Scalar(0f));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Functional.Neuron(x, new KlifNeuron { ScaleReset = true }, k));
        Assert.Contains("'k'", e.Message, StringComparison.Ordinal);
        using var y = Functional.Neuron(x, new KlifNeuron(), k);
        Assert.Equal(0, y.Spikes!.PopCount());
    }

    private static void Check(KlifCase c)
    {
        var model = c.Model();
        var (x, g) = c.Inputs();
        var expected = KlifReference.Run(model, c.K, x, g, c.Steps);
        Assert.True(expected.Margin >= 1e-3, $"{c}: margin {expected.Margin}");
        // With k·(1 − 1/τ) above 1 the membrane amplifies rounding every step; the op composition (float32, independent
        // of the fused kernel) measures how far float32 itself gets from double on this problem.
        var singlePrecision = ModelHarness.Composed((input, p) => ComposedNeurons.Klif(input, model, p[0]), [c.K], x, g, c.Shape);
        double gain = Math.Max(1, c.K * (1 - 1 / c.Tau));
        ModelHarness.AssertMatches(expected, ModelHarness.Multi(model, [c.K], x, g, c.Shape), exactOutput: true, c.ToString(), singlePrecision, gain, c.Steps);
    }
}
