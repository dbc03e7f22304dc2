using System;
using System.Collections.Generic;
using System.Linq;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Cli.Neurons;
using Spiking.Layers;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Neurons;

/// <summary>
/// A naive double-precision IIR-SNN LIF and its backward through time, written from the model's equations with
/// <c>if</c>s for the spike and the reset. With <c>smooth</c> the spike is <c>sigmoid(α·z)</c> itself, a real number
/// whose derivative is exactly the Sigmoid surrogate's, so the same backward can be checked against finite differences.
/// </summary>
public static class IirLifReference
{
    public static ReferenceRun Run(IirLifNeuron model, double leakW, double thresholdW, float[] x, float[] g, int steps, bool smooth = false)
    {
        int m = x.Length / steps;
        double leak = IirLifNeuron.Leak(leakW), theta = IirLifNeuron.Threshold(thresholdW), vr = model.ResetPotential;
        bool hard = model.HardReset, detach = model.DetachReset;
        double alpha = smooth ? model.Surrogate!.Parameters["alpha"] : 0;
        var h = new double[x.Length];
        var v = new double[x.Length];
        var s = new double[x.Length];
        var distance = new double[x.Length];
        for (int i = 0; i < m; i++)
        {
            double state = vr;
            for (int t = 0; t < steps; t++)
            {
                int e = t * m + i;
                double hv = leak * state + x[e];
                double z = (hv - theta) / theta;
                double spike = smooth ? 1 / (1 + Math.Exp(-alpha * z)) : hv >= theta ? 1 : 0;
                state = hard ? spike * vr + (1 - spike) * hv : hv - theta * spike;
                (h[e], v[e], s[e]) = (hv, state, spike);
                distance[e] = Math.Min(Math.Abs(hv - theta), ModelHarness.SurrogateJumpDistance(model.Surrogate, z));
            }
        }

        var gx = new double[x.Length];
        var gxScale = new double[x.Length];
        double gLeak = 0, gLeakScale = 0, gTheta = 0, gThetaScale = 0;
        for (int i = 0; i < m; i++)
        {
            double gv = 0, gvScale = 0; // dL/dv_t from step t+1, and the sum of its |terms|
            for (int t = steps - 1; t >= 0; t--)
            {
                int e = t * m + i;
                double z = (h[e] - theta) / theta;
                double sg = NeuronReference.SurrogateDerivative(model.Surrogate!, z);
                double dsdh = sg / theta, dsdTheta = -sg * h[e] / (theta * theta);
                double dvds = detach ? 0 : hard ? vr - h[e] : -theta;
                double dvdh = hard ? 1 - s[e] : 1;
                double dvdTheta = hard ? 0 : -s[e];
                double gs = g[e] + gv * dvds;
                double gsScale = Math.Abs(g[e]) + gvScale * Math.Abs(dvds);
                double gh = gs * dsdh + gv * dvdh;
                double ghScale = gsScale * Math.Abs(dsdh) + gvScale * Math.Abs(dvdh);
                double thetaTerm = gs * dsdTheta + gv * dvdTheta;
                gTheta += thetaTerm;
                gThetaScale += gsScale * Math.Abs(dsdTheta) + gvScale * Math.Abs(dvdTheta);
                double previous = t == 0 ? vr : v[e - m];
                gLeak += gh * previous;
                gLeakScale += ghScale * Math.Abs(previous);
                gx[e] = gh;
                gxScale[e] = ghScale;
                gv = gh * leak;
                gvScale = ghScale * leak;
            }
        }
        double dThetaDw = 1 / (1 + Math.Exp(-thresholdW)), dLeakDw = leak * (1 - leak);
        return new ReferenceRun
        {
            Output = s,
            Traces = new Dictionary<string, double[]> { ["h"] = h, ["v"] = v },
            GradX = gx,
            GradXScale = gxScale,
            GradParameters = [gLeak * dLeakDw, gTheta * dThetaDw],
            GradParameterScales = [gLeakScale * dLeakDw, gThetaScale * dThetaDw],
            Distance = distance,
        };
    }

    /// <summary><c>L = Σ G·s</c> of the smooth forward.</summary>
    public static double SmoothLoss(IirLifNeuron model, double leakW, double thresholdW, double[] x, float[] g, int steps)
    {
        int m = x.Length / steps;
        double leak = IirLifNeuron.Leak(leakW), theta = IirLifNeuron.Threshold(thresholdW), vr = model.ResetPotential;
        double alpha = model.Surrogate!.Parameters["alpha"];
        double loss = 0;
        for (int i = 0; i < m; i++)
        {
            double state = vr;
            for (int t = 0; t < steps; t++)
            {
                int e = t * m + i;
                double hv = leak * state + x[e];
                double spike = 1 / (1 + Math.Exp(-alpha * (hv - theta) / theta));
                state = model.HardReset ? spike * vr + (1 - spike) * hv : hv - theta * spike;
                loss += g[e] * spike;
            }
        }
        return loss;
    }
}

/// <summary>An IIR-SNN LIF problem: shape <c>[T, …]</c>, the settings, the learnable values and the seed of the input and upstream gradient.</summary>
public sealed record IirLifCase(int[] Dims, bool Hard, bool Detach, string Surrogate, double Leak, double Threshold, float Reset, int Seed)
{
    public Shape Shape => new(Dims);

    public int Steps => Dims[0];

    /// <summary>The stored learnable values, rounded to float as a layer holds them.</summary>
    public float[] Parameters => [(float)IirLifNeuron.LeakW(Leak), (float)IirLifNeuron.ThresholdW(Threshold)];

    public IirLifNeuron Model() => new()
    {
        VReset = Hard ? Reset : null, DetachReset = Detach, Surrogate = global::Spiking.Autograd.Surrogates.Surrogate.Create(Surrogate),
    };

    /// <summary>The input current (about a third of θ per step) and the upstream gradient, every value at least 1e-3 from a boundary.</summary>
    public (float[] X, float[] G) Inputs()
    {
        var rng = new Random(Seed);
        int n = Shape.ElementCount;
        var x = new float[n];
        var g = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)(Threshold * (0.35 + 0.6 * Reference.Normal(rng)));
        for (int i = 0; i < n; i++) g[i] = (float)Reference.Normal(rng);
        var model = Model();
        var p = Parameters;
        ModelHarness.EnsureMargin(v => IirLifReference.Run(model, p[0], p[1], v, g, Steps).Distance, x, Steps);
        return (x, g);
    }

    public override string ToString() =>
        $"IirLifCase({Shape.Format(Dims)}, {(Hard ? $"hard {Reset}" : "soft")}, detach {Detach}, {Surrogate}, λ {Leak}, θ {Threshold}, seed {Seed})";
}

/// <summary>
/// IIR-SNN's LIF with a learnable leak and threshold (<see cref="IirLifNeuron"/>): the double reference against
/// finite differences, the fused kernel against the reference and against its composition from ops, single steps and
/// split sequences, and the layer's names, values and settings.
/// </summary>
public sealed class IirLifTests
{
    public static TheoryData<bool, bool> Resets() => new() { { false, true }, { false, false }, { true, true }, { true, false } };

    [Theory]
    [InlineData(false, false, 0.5, 1.0)]
    [InlineData(false, false, 0.8, 0.7)]
    [InlineData(true, false, 0.6, 1.4)]
    public void The_reference_backward_matches_finite_differences_of_a_smooth_spike(bool hard, bool detach, double leak, double threshold)
    {
        // With the spike replaced by sigmoid(α·z), whose derivative is the Sigmoid surrogate's, the forward is smooth and
        // the same backward (the leak, the threshold, the reset through the spike) must be its exact derivative.
        var c = new IirLifCase([6, 3, 5], hard, detach, "Sigmoid", leak, threshold, -0.2f, 3);
        var model = c.Model();
        var (x, g) = c.Inputs();
        double leakW = IirLifNeuron.LeakW(leak), thresholdW = IirLifNeuron.ThresholdW(threshold);
        var analytic = IirLifReference.Run(model, leakW, thresholdW, x, g, c.Steps, smooth: true);
        var xd = Array.ConvertAll(x, v => (double)v);
        const double eps = 1e-6;
        double Loss(double lw, double tw, double[] input) => IirLifReference.SmoothLoss(model, lw, tw, input, g, c.Steps);
        double dLeak = (Loss(leakW + eps, thresholdW, xd) - Loss(leakW - eps, thresholdW, xd)) / (2 * eps);
        double dThreshold = (Loss(leakW, thresholdW + eps, xd) - Loss(leakW, thresholdW - eps, xd)) / (2 * eps);
        Assert.Equal(dLeak, analytic.GradParameters[0], 6);
        Assert.Equal(dThreshold, analytic.GradParameters[1], 6);
        Assert.True(Math.Abs(dLeak) > 1e-3 && Math.Abs(dThreshold) > 1e-3, $"degenerate problem: {dLeak}, {dThreshold}");
        for (int e = 0; e < xd.Length; e += 7)
        {
            var plus = (double[])xd.Clone();
            var minus = (double[])xd.Clone();
            plus[e] += eps;
            minus[e] -= eps;
            double numeric = (Loss(leakW, thresholdW, plus) - Loss(leakW, thresholdW, minus)) / (2 * eps);
            Assert.Equal(numeric, analytic.GradX[e], 6);
        }
    }

    [Theory]
    [MemberData(nameof(Resets))]
    public void Every_reset_matches_the_double_reference(bool hard, bool detach)
    {
        // Rows of 70 neurons: two words per row, vector tails; 4 x 6 rows per step; 7 steps.
        Check(new IirLifCase([7, 4, 6, 70], hard, detach, "ATan", 0.5, 1.0, -0.2f, 42));
        Check(new IirLifCase([5, 3, 37], hard, detach, "Sigmoid", 0.85, 0.6, 0.1f, 5));
        Check(new IirLifCase([4, 2, 33], hard, detach, "PiecewiseQuadratic", 0.3, 1.7, 0f, 8));
    }

    [Theory]
    [InlineData(3, 2, 4100)] // rows longer than a chunk: one row per chunk
    [InlineData(4, 300, 28)] // many short rows: several chunks and a partial one
    [InlineData(2, 5000, 1)] // rows of one neuron
    [InlineData(1, 3, 63)] // one time step, IIR-SNN's aim
    public void Chunk_and_row_edges_match_the_double_reference(int steps, int rows, int rowLength) =>
        Check(new IirLifCase([steps, rows, rowLength], false, true, "ATan", 0.7, 1.2, 0f, 7));

    [Theory]
    [MemberData(nameof(Resets))]
    public void The_fused_op_equals_its_composition_from_ops(bool hard, bool detach)
    {
        var c = new IirLifCase([5, 3, 37], hard, detach, "Sigmoid", 0.6, 1.3, -0.1f, 11);
        var model = c.Model();
        var (x, g) = c.Inputs();
        var fused = ModelHarness.Multi(model, c.Parameters, x, g, c.Shape);
        var composed = ModelHarness.Composed((input, p) => ComposedNeurons.IirLif(input, model, p[0], p[1]), c.Parameters, x, g, c.Shape);
        Assert.Equal(composed.Output, fused.Output);
        Golden.AssertClose(Array.ConvertAll(composed.GradX, v => (double)v), fused.GradX, "dL/dx", rel: 1e-5, abs: 1e-6);
        Golden.AssertClose(Array.ConvertAll(composed.GradParameters, v => (double)v), fused.GradParameters, "dL/dleak_w, dL/dthreshold_w", rel: 1e-4, abs: 1e-5);
    }

    [Theory]
    [MemberData(nameof(Resets))]
    public void Single_steps_and_a_split_sequence_equal_one_call(bool hard, bool detach)
    {
        var c = new IirLifCase([6, 3, 70], hard, detach, "Sigmoid", 0.75, 0.9, -0.25f, 123);
        var model = c.Model();
        var (x, g) = c.Inputs();
        var multi = ModelHarness.Multi(model, c.Parameters, x, g, c.Shape);
        ModelHarness.AssertSame(multi, ModelHarness.SingleSteps(model, c.Parameters, x, g, c.Shape), "single steps");
        var split = ModelHarness.Split(model, c.Parameters, x, g, c.Shape, first: 2);
        ModelHarness.AssertSame(multi, split, "split at step 2");
        Reference.AssertBitwise(multi.Traces["v"].AsSpan(5 * 210, 210), split.Traces["v_final"], "carried v");
    }

    /// <summary>
    /// One neuron, λ = 0.5, θ = 1, soft reset, x = [0.8, 0.8, 0.3]: h = 0.8 (no spike, v = 0.8), h = 0.4 + 0.8 = 1.2
    /// (spike, v = 0.2), h = 0.1 + 0.3 = 0.4 (no spike).
    /// </summary>
    [Fact]
    public void The_layer_learns_leak_w_and_threshold_w_by_name_from_its_initial_values()
    {
        using var layer = new IirLeakyIntegrateAndFire();
        Assert.Equal(["leak_w", "threshold_w"], layer.NamedParameters().Select(p => p.Item1).ToArray());
        Assert.Equal(0f, layer.LeakW.Value.ToScalar());
        Assert.Equal(0.5, layer.Leak, 7);
        Assert.Equal(1.0, layer.Threshold, 6);
        using var x = Variable.Input(Tensor.FromArray([0.8f, 0.8f, 0.3f], 3, 1));
        using var y = layer.Forward(x, out var traces);
        using (traces)
        {
            Golden.AssertClose([0.8, 1.2, 0.4], traces["h"].ToArray(), "h");
            Golden.AssertClose([0.8, 0.2, 0.4], traces["v"].ToArray(), "v");
        }
        Assert.Equal(new[] { 0f, 1f, 0f }, y.ToDense().ToArray());
        y.Backward(Tensor.Full(new Shape(3, 1), 1f));
        Assert.NotEqual(0f, layer.LeakW.Variable.Grad!.ToScalar());
        Assert.NotEqual(0f, layer.ThresholdW.Variable.Grad!.ToScalar());

        using var other = new IirLeakyIntegrateAndFire(initLeak: 0.9, initThreshold: 2.5);
        Assert.Equal(0.9, other.Leak, 6);
        Assert.Equal(2.5, other.Threshold, 5);
    }

    [Fact]
    public void The_leak_stays_in_the_unit_interval_and_the_threshold_positive_for_any_stored_value()
    {
        foreach (double w in new[] { -1e30, -200.0, -30.0, -1.0, 0.0, 1.0, 30.0, 200.0, 1e30 })
        {
            double leak = IirLifNeuron.Leak(w), threshold = IirLifNeuron.Threshold(w);
            Assert.InRange(leak, 0.0, 1.0);
            Assert.True(threshold >= IirLifNeuron.MinThreshold, $"θ({w}) = {threshold}");
        }
        Assert.Equal(0.3, IirLifNeuron.Leak(IirLifNeuron.LeakW(0.3)), 12);
        Assert.Equal(1.7, IirLifNeuron.Threshold(IirLifNeuron.ThresholdW(1.7)), 12);
        Assert.Equal(40.0, IirLifNeuron.Threshold(IirLifNeuron.ThresholdW(40.0)), 10);

        // A threshold_w far below zero runs at the floor with finite outputs and gradients.
        using var x = Variable.Input(Tensor.FromArray([0.5f, -0.5f, 0.25f], 3, 1));
        using var leakW = Variable.Parameter(Tensor.Scalar(0f));
        using var thresholdW = Variable.Parameter(Tensor.Scalar(-60f));
        using var y = Functional.Neuron(x, new IirLifNeuron { Surrogate = new ATan() }, leakW, thresholdW);
        y.Backward(Tensor.Full(new Shape(3, 1), 1f));
        Assert.All(x.Grad!.ToArray(), v => Assert.True(float.IsFinite(v)));
        Assert.Equal(0f, thresholdW.Grad!.ToScalar());
        Assert.True(float.IsFinite(leakW.Grad!.ToScalar()));
    }

    [Fact]
    public void The_catalog_builds_it_with_IIR_SNN_defaults_and_names_bad_settings()
    {
        using var layer = (SpikingNeuron)NeuronCatalog.Create(new NeuronSettings("IIRLIFNode", new Dictionary<string, object?>()));
        var model = Assert.IsType<IirLifNeuron>(layer.Model);
        Assert.Equal((0.5, 1.0, (float?)null, true), (model.InitialLeak, model.InitialThreshold, model.VReset, model.DetachReset));
        Assert.Equal("IIRLIF(init_leak=0.5, init_threshold=1, v_reset=None, detach_reset=True, surrogate=Sigmoid(alpha=4))", model.ToString());
        var custom = IirLifNeuron.FromSettings(new NeuronSettings("IIRLIFNode", new Dictionary<string, object?>
        {
            ["init_leak"] = 0.9, ["init_threshold"] = 0.5, ["v_reset"] = 0.0, ["detach_reset"] = false,
        }));
        Assert.Equal((0.9, 0.5, (float?)0f, false), (custom.InitialLeak, custom.InitialThreshold, custom.VReset, custom.DetachReset));
        Assert.Equal("init_leak", Assert.Throws<ArgumentOutOfRangeException>(() => new IirLifNeuron { InitialLeak = 1.0 }).ParamName);
        Assert.Equal("init_leak", Assert.Throws<ArgumentOutOfRangeException>(() => new IirLifNeuron { InitialLeak = 0.0 }).ParamName);
        Assert.Equal("init_threshold", Assert.Throws<ArgumentOutOfRangeException>(() => new IirLifNeuron { InitialThreshold = 0.0 }).ParamName);
        Assert.Equal("v_reset", Assert.Throws<ArgumentOutOfRangeException>(() => new IirLifNeuron { VReset = float.NaN }).ParamName);
        var unknown = new NeuronSettings("IIRLIFNode", new Dictionary<string, object?> { ["tau"] = 2.0 });
        Assert.Equal("tau", Assert.Throws<ArgumentException>(() => NeuronCatalog.Create(unknown)).ParamName);
    }

    private static void Check(IirLifCase c)
    {
        var model = c.Model();
        var (x, g) = c.Inputs();
        var p = c.Parameters;
        var expected = IirLifReference.Run(model, p[0], p[1], x, g, c.Steps);
        Assert.True(expected.Margin >= 1e-3, $"{c}: margin {expected.Margin}");
        ModelHarness.AssertMatches(expected, ModelHarness.Multi(model, p, x, g, c.Shape), exactOutput: true, c.ToString(), steps: c.Steps);
    }
}
