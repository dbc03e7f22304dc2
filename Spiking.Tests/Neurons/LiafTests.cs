using System;
using System.Collections.Generic;
using System.Runtime.Intrinsics;
using FsCheck.Xunit;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Cli.Neurons;
using Spiking.Layers;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;
using Xunit;

namespace Spiking.Tests.Neurons;

/// <summary>
/// A naive double-precision LIAF and its backward through time, from the golden README's equations: the activation
/// and its derivative from <see cref="Math"/>, the spike only in the reset, the reset's derivative case by case.
/// </summary>
public static class LiafReference
{
    public static ReferenceRun Run(LiafNeuron model, float[] x, float[] g, int steps)
    {
        int m = x.Length / steps;
        double theta = model.VThreshold, vr = model.ResetPotential, kTau = 1.0 / model.Tau;
        double offset = model.ThresholdRelated ? theta : 0;
        bool hard = model.HardReset, detach = model.DetachReset;
        var h = new double[x.Length];
        var v = new double[x.Length];
        var y = new double[x.Length];
        var s = new double[x.Length];
        var distance = new double[x.Length];
        for (int i = 0; i < m; i++)
        {
            double state = vr;
            for (int t = 0; t < steps; t++)
            {
                int e = t * m + i;
                double hv = model.DecayInput ? state + (x[e] - (state - vr)) * kTau : state - (state - vr) * kTau + x[e];
                bool spike = hv >= theta;
                state = hard ? (spike ? vr : hv) : hv - (spike ? theta : 0);
                (h[e], v[e], s[e], y[e]) = (hv, state, spike ? 1 : 0, Activation(model.Act, hv - offset));
                double kink = model.Act == LiafActivation.Relu ? Math.Abs(hv - offset) : double.PositiveInfinity;
                distance[e] = Math.Min(Math.Min(Math.Abs(hv - theta), kink), ModelHarness.SurrogateJumpDistance(model.Surrogate, hv - theta));
            }
        }

        var gx = new double[x.Length];
        var gxScale = new double[x.Length];
        for (int i = 0; i < m; i++)
        {
            double gv = 0, gvScale = 0;
            for (int t = steps - 1; t >= 0; t--)
            {
                int e = t * m + i;
                double sg = detach ? 0 : NeuronReference.SurrogateDerivative(model.Surrogate!, h[e] - theta);
                double dvdh = hard ? (1 - s[e]) + (vr - h[e]) * sg : 1 - theta * sg;
                double gh = g[e] * Derivative(model.Act, h[e] - offset) + gv * dvdh;
                double ghScale = Math.Abs(g[e] * Derivative(model.Act, h[e] - offset)) + gvScale * (hard ? (1 - s[e]) + Math.Abs((vr - h[e]) * sg) : 1 + theta * sg);
                gx[e] = model.DecayInput ? gh * kTau : gh;
                gxScale[e] = model.DecayInput ? ghScale * kTau : ghScale;
                gv = gh * (1 - kTau);
                gvScale = ghScale * (1 - kTau);
            }
        }
        return new ReferenceRun
        {
            Output = y,
            Traces = new Dictionary<string, double[]> { ["h"] = h, ["v"] = v, ["spike"] = s },
            GradX = gx,
            GradXScale = gxScale,
            Distance = distance,
        };
    }

    public static double Activation(LiafActivation act, double a) => act switch
    {
        LiafActivation.Sigmoid => 1 / (1 + Math.Exp(-a)),
        LiafActivation.Tanh => Math.Tanh(a),
        _ => Math.Max(a, 0),
    };

    public static double Derivative(LiafActivation act, double a) => act switch
    {
        LiafActivation.Sigmoid => Math.Exp(-Math.Abs(a)) / ((1 + Math.Exp(-Math.Abs(a))) * (1 + Math.Exp(-Math.Abs(a)))),
        LiafActivation.Tanh => 1 / (Math.Cosh(a) * Math.Cosh(a)),
        _ => a > 0 ? 1 : 0,
    };
}

/// <summary>SpikingJelly's LIAFNode (<see cref="LiafNeuron"/>): against the double reference, the op composition, the golden cases, single steps and split sequences; its activations against double math.</summary>
public sealed class LiafTests
{
    public static TheoryData<LiafActivation, bool, bool, bool> Variants()
    {
        var data = new TheoryData<LiafActivation, bool, bool, bool>();
        foreach (var act in new[] { LiafActivation.Sigmoid, LiafActivation.Tanh, LiafActivation.Relu })
        {
            foreach (bool thresholdRelated in new[] { true, false })
            {
                foreach (bool hard in new[] { true, false })
                {
                    foreach (bool detach in new[] { true, false }) data.Add(act, thresholdRelated, hard, detach);
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Every_activation_reset_and_detach_matches_the_double_reference(LiafActivation act, bool thresholdRelated, bool hard, bool detach)
    {
        Check(new LiafCase([7, 4, 6, 70], act, thresholdRelated, true, hard, detach, "ATan", 1f, -0.2f, 2.0, 42));
        Check(new LiafCase([5, 3, 33], act, thresholdRelated, false, hard, detach, "Erf", 0.5f, 0f, 3.0, 43));
    }

    [Theory]
    [InlineData(3, 2, 4100)]
    [InlineData(4, 300, 28)]
    [InlineData(2, 5000, 1)]
    [InlineData(5, 3, 63)]
    public void Chunk_and_row_edges_match_the_double_reference(int steps, int rows, int rowLength) =>
        Check(new LiafCase([steps, rows, rowLength], LiafActivation.Tanh, true, true, false, false, "Sigmoid", 1f, 0f, 2.0, 7));

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 40)]
    public void Random_problems_match_the_double_reference(LiafCase c) => Check(c);

    [Theory]
    [MemberData(nameof(Variants))]
    public void The_fused_op_equals_its_composition_from_ops(LiafActivation act, bool thresholdRelated, bool hard, bool detach)
    {
        var c = new LiafCase([5, 3, 37], act, thresholdRelated, true, hard, detach, "Sigmoid", 1f, 0f, 2.0, 11);
        var model = c.Model();
        var (x, g) = c.Inputs();
        var fused = ModelHarness.Multi(model, [], x, g, c.Shape);
        var composed = ModelHarness.Composed((input, _) => ComposedNeurons.Liaf(input, model), [], x, g, c.Shape);
        Golden.AssertClose(Array.ConvertAll(composed.Output, v => (double)v), fused.Output, "y", rel: 1e-5, abs: 1e-6);
        Golden.AssertClose(Array.ConvertAll(composed.GradX, v => (double)v), fused.GradX, "dL/dx", rel: 1e-4, abs: 1e-6);
    }

    public static TheoryData<string> GoldenCases() => ModelHarness.GoldenMoreCases("LIAFNode");

    [Theory]
    [MemberData(nameof(GoldenCases))]
    public void Every_golden_case_passes_the_conformance_check(string id) => ModelHarness.AssertGoldenMoreCasePasses(id);

    [Theory]
    [InlineData(LiafActivation.Sigmoid, true, false)]
    [InlineData(LiafActivation.Tanh, false, true)]
    [InlineData(LiafActivation.Relu, true, true)]
    public void Single_steps_and_a_split_sequence_equal_one_call(LiafActivation act, bool hard, bool detach)
    {
        var c = new LiafCase([6, 3, 70], act, true, true, hard, detach, "Sigmoid", 1f, -0.25f, 1.5, 123);
        var model = c.Model();
        var (x, g) = c.Inputs();
        var multi = ModelHarness.Multi(model, [], x, g, c.Shape);
        ModelHarness.AssertSame(multi, ModelHarness.SingleSteps(model, [], x, g, c.Shape), "single steps");
        var split = ModelHarness.Split(model, [], x, g, c.Shape, first: 4);
        ModelHarness.AssertSame(multi, split, "split at step 4");
        Reference.AssertBitwise(multi.Traces["v"].AsSpan(5 * 210, 210), split.Traces["v_final"], "carried v");
    }

    public static TheoryData<LiafActivation> Activations() => new() { LiafActivation.Sigmoid, LiafActivation.Tanh, LiafActivation.Relu };

    /// <summary>Every value and derivative over ±100 (dense near 0, where tanh switches to its series) at every vector width against double math.</summary>
    [Theory]
    [MemberData(nameof(Activations))]
    public void Activations_match_double_math_from_minus_100_to_100(LiafActivation act)
    {
        var inputs = new List<float> { -100f, 100f, -88.8f, 88.8f, -30f, 30f, -1e-30f, 1e-30f, 0f, -0f, 0.125f, -0.125f, 0.12499999f, -0.12500001f };
        for (double a = -100; a <= 100; a += 0.0731) inputs.Add((float)a);
        for (double a = -0.3; a <= 0.3; a += 0.00037) inputs.Add((float)a);
        var x = inputs.ToArray();
        var value = new float[x.Length];
        var derivative = new float[x.Length];
        foreach (int width in new[] { 128, 256, 512 })
        {
            if (!Evaluate(act, width, x, value, derivative)) continue;
            for (int i = 0; i < x.Length; i++)
            {
                double expected = LiafReference.Activation(act, x[i]), expectedDerivative = LiafReference.Derivative(act, x[i]);
                Assert.True(float.IsFinite(value[i]) && float.IsFinite(derivative[i]), $"{act} at {x[i]:G9} ({width} bits): {value[i]}, {derivative[i]}");
                Assert.True(Math.Abs(value[i] - expected) <= 1e-6 * Math.Abs(expected) + 1e-37,
                    $"{act}({x[i]:G9}) is {value[i]:G9} at {width} bits, expected {expected:G17}");
                Assert.True(Math.Abs(derivative[i] - expectedDerivative) <= 1e-6 * Math.Abs(expectedDerivative) + 1e-37,
                    $"{act}'({x[i]:G9}) is {derivative[i]:G9} at {width} bits, expected {expectedDerivative:G17}");
            }
        }
    }

    [Fact]
    public void Large_inputs_give_finite_outputs_and_gradients()
    {
        foreach (var act in new[] { LiafActivation.Sigmoid, LiafActivation.Tanh, LiafActivation.Relu })
        {
            var model = new LiafNeuron { Act = act, ThresholdRelated = false, Surrogate = new ATan() };
            float[] x = [1e30f, -1e30f, 1e6f, -1e6f, 200f, -200f, 50f, -50f];
            var run = ModelHarness.Multi(model, [], x, [1, 1, 1, 1, 1, 1, 1, 1], new Shape(2, 4));
            Assert.All(run.Output, v => Assert.True(float.IsFinite(v)));
            Assert.All(run.GradX, v => Assert.True(float.IsFinite(v)));
        }
    }

    [Fact]
    public void Defaults_settings_and_names_are_SpikingJellys()
    {
        var model = LiafNeuron.FromSpikingJelly(new NeuronSettings("LIAFNode", new Dictionary<string, object?> { ["act"] = "tanh", ["threshold_related"] = false }));
        Assert.Equal((LiafActivation.Tanh, false, 2.0, true, 1f, (float?)0f, false), (model.Act, model.ThresholdRelated, model.Tau, model.DecayInput, model.VThreshold, model.VReset, model.DetachReset));
        Assert.IsType<Sigmoid>(model.Surrogate);
        Assert.Equal("LIAF(act=tanh, threshold_related=False, tau=2, decay_input=True, v_threshold=1, v_reset=0, detach_reset=False, surrogate=Sigmoid(alpha=4))", model.ToString());
        Assert.Equal(("y", true), (model.OutputName, model.HasInternalSpikes));
    }

    [Fact]
    public void The_layer_counts_the_internal_spikes()
    {
        using var layer = new SpikingNeuron(new LiafNeuron { Act = LiafActivation.Relu, ThresholdRelated = true, VReset = null }) { CountSpikes = true };
        using var x = Variable.Input(Tensor.FromArray([2.5f, 0.2f, 0.9f, 2.5f, 0.1f, 2.9f], 3, 2));
        using var y = layer.Forward(x);
        // h = v + (x − v)/2, soft reset: neuron 0 sees 1.25 (spike), 0.575, 0.3375; neuron 1 sees 0.1, 1.3 (spike), 1.6 (spike).
        Assert.Equal((3L, 6L), (layer.SpikeCount, layer.NeuronSteps));
    }

    [Fact]
    public void Invalid_settings_name_the_setting()
    {
        Assert.Equal("tau", Assert.Throws<ArgumentOutOfRangeException>(() => new LiafNeuron { Act = LiafActivation.Relu, ThresholdRelated = true, Tau = 0.5 }).ParamName);
        Assert.Equal("act", Assert.Throws<ArgumentOutOfRangeException>(() => new LiafNeuron { Act = (LiafActivation)7, ThresholdRelated = true }).ParamName);
        Assert.Equal("v_threshold", Assert.Throws<ArgumentOutOfRangeException>(() => new LiafNeuron { Act = LiafActivation.Relu, ThresholdRelated = true, VThreshold = float.NaN }).ParamName);
        Assert.Equal("act", Assert.Throws<ArgumentException>(() => Settings(new() { ["threshold_related"] = true })).ParamName);
        Assert.Equal("threshold_related", Assert.Throws<ArgumentException>(() => Settings(new() { ["act"] = "relu" })).ParamName);
        var unknown = Assert.Throws<ArgumentException>(() => Settings(new() { ["act"] = "gelu", ["threshold_related"] = true }));
        Assert.Equal("act", unknown.ParamName);
        Assert.Contains("\"gelu\"", unknown.Message, StringComparison.Ordinal);
        Assert.Equal("tau", Assert.Throws<ArgumentException>(() => Settings(new() { ["act"] = "relu", ["threshold_related"] = true, ["tau"] = "2" })).ParamName);
    }

    internal static void Check(LiafCase c)
    {
        var model = c.Model();
        var (x, g) = c.Inputs();
        var expected = LiafReference.Run(model, x, g, c.Steps);
        Assert.True(expected.Margin >= 1e-3, $"{c}: margin {expected.Margin}");
        ModelHarness.AssertMatches(expected, ModelHarness.Multi(model, [], x, g, c.Shape), exactOutput: false, c.ToString());
    }

    private static LiafNeuron Settings(Dictionary<string, object?> values) => LiafNeuron.FromSpikingJelly(new NeuronSettings("LIAFNode", values));

    private static bool Evaluate(LiafActivation act, int width, float[] x, float[] value, float[] derivative)
    {
        switch (width)
        {
            case 128 when Vector128.IsHardwareAccelerated: Evaluate<Simd128, Vector128<float>>(act, x, value, derivative); return true;
            case 256 when Vector256.IsHardwareAccelerated: Evaluate<Simd256, Vector256<float>>(act, x, value, derivative); return true;
            case 512 when Vector512.IsHardwareAccelerated: Evaluate<Simd512, Vector512<float>>(act, x, value, derivative); return true;
            default: return false;
        }
    }

    private static void Evaluate<TSimd, TVec>(LiafActivation act, float[] x, float[] value, float[] derivative) where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int count = TSimd.Count;
        var lane = new float[count];
        for (int i = 0; i < x.Length; i += count)
        {
            Array.Clear(lane);
            Array.Copy(x, i, lane, 0, Math.Min(count, x.Length - i));
            var a = TSimd.Load(ref lane[0]);
            var (y, d) = act switch
            {
                LiafActivation.Sigmoid => (SigmoidActivation.Value<TSimd, TVec>(a), SigmoidActivation.Derivative<TSimd, TVec>(a)),
                LiafActivation.Tanh => (TanhActivation.Value<TSimd, TVec>(a), TanhActivation.Derivative<TSimd, TVec>(a)),
                _ => (ReluActivation.Value<TSimd, TVec>(a), ReluActivation.Derivative<TSimd, TVec>(a)),
            };
            var yLanes = new float[count];
            var dLanes = new float[count];
            TSimd.Store(y, ref yLanes[0]);
            TSimd.Store(d, ref dLanes[0]);
            Array.Copy(yLanes, 0, value, i, Math.Min(count, x.Length - i));
            Array.Copy(dLanes, 0, derivative, i, Math.Min(count, x.Length - i));
        }
    }
}
