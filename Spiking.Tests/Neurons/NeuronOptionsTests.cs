using System;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Neurons;

/// <summary>Settings, argument checks and numerically hard inputs of the neuron ops.</summary>
public sealed class NeuronOptionsTests
{
    public static TheoryData<string, Func<ThresholdNeuron>> Invalid() => new()
    {
        { "tau", () => TestNeurons.Lif(tau: 1.0) },
        { "tau", () => TestNeurons.Lif(tau: 0.5) },
        { "tau", () => TestNeurons.Lif(tau: double.NaN) },
        { "tau", () => TestNeurons.Lif(tau: double.PositiveInfinity) },
        { "tau", () => TestNeurons.Lif() with { Tau = -2 } },
        { "init_tau", () => TestNeurons.ParametricLif(initTau: 1.0) },
        { "init_tau", () => TestNeurons.ParametricLif(initTau: double.NaN) },
        { "v_threshold", () => TestNeurons.IF(vThreshold: float.NaN) },
        { "v_threshold", () => TestNeurons.Lif(vThreshold: float.PositiveInfinity) },
        { "v_reset", () => TestNeurons.Lif(vReset: float.NaN) },
        { "v_reset", () => TestNeurons.IF(vReset: float.NegativeInfinity) },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Invalid_settings_name_the_parameter(string parameter, Func<ThresholdNeuron> create)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(create);
        Assert.Equal(parameter, e.ParamName);
    }

    [Fact]
    public void Defaults_and_initial_w_are_SpikingJellys()
    {
        var lif = TestNeurons.Lif();
        Assert.Equal((2.0, true, 1f, (float?)0f, false), (lif.Tau, lif.DecayInput, lif.VThreshold, lif.VReset, lif.DetachReset));
        Assert.True(lif.HardReset);
        Assert.False(TestNeurons.IF(vReset: null).HardReset);
        Assert.Equal(0.0, TestNeurons.ParametricLif().InitialW);
        Assert.Equal(-Math.Log(2), TestNeurons.ParametricLif(initTau: 3).InitialW, 15);
        Assert.IsType<Sigmoid>(new LifNeuron().Surrogate);
        Assert.Equal("LIF(tau=2, decay_input=True, v_threshold=1, v_reset=0, detach_reset=False, surrogate=Sigmoid(alpha=4))", lif.ToString());
    }

    [Fact]
    public void Bad_inputs_are_rejected_with_their_names()
    {
        using var vector = Variable.Input(Tensor.Zeros(8));
        Assert.Equal("xSeq", Assert.Throws<ArgumentException>(() => Functional.LifMultiStep(vector)).ParamName);
        using var bits = Variable.Constant(SpikeTensor.Zeros(4, 3));
        Assert.Equal("xSeq", Assert.Throws<ArgumentException>(() => Functional.IfMultiStep(bits)).ParamName);
        using var x = Variable.Input(Tensor.Zeros(4, 3));
        var missing = Assert.Throws<ArgumentException>(() => Functional.Neuron(x, TestNeurons.ParametricLif()));
        Assert.Equal("parameters", missing.ParamName);
        Assert.Contains("takes 1 learnable parameter (w); got 0", missing.Message, StringComparison.Ordinal);
        using var w = Variable.Parameter(Tensor.Scalar(0f));
        Assert.Contains("takes 0 learnable parameters (none); got 1", Assert.Throws<ArgumentException>(() => Functional.Neuron(x, TestNeurons.Lif(), w)).Message, StringComparison.Ordinal);
        using var w2 = Variable.Parameter(Tensor.Zeros(2));
        Assert.Contains("'w' must be a dense scalar", Assert.Throws<ArgumentException>(() => Functional.ParametricLifMultiStep(x, w2)).Message, StringComparison.Ordinal);
        using var wNaN = Variable.Parameter(Tensor.Scalar(float.NaN));
        Assert.Contains("'w' must be finite", Assert.Throws<ArgumentOutOfRangeException>(() => Functional.ParametricLifMultiStep(x, wNaN)).Message, StringComparison.Ordinal);
    }

    public static TheoryData<LifKind, double, double, float> Extremes() => new()
    {
        { LifKind.IntegrateAndFire, 2.0, 0, 1e30f },
        { LifKind.LeakyIntegrateAndFire, 2.0, 0, 1e30f },
        { LifKind.LeakyIntegrateAndFire, 1.0001, 0, 1e6f },
        { LifKind.LeakyIntegrateAndFire, 1.0001, 0, 1e30f },
        { LifKind.ParametricLeakyIntegrateAndFire, 2.0, 30, 1e30f },
        { LifKind.ParametricLeakyIntegrateAndFire, 2.0, -30, 1e6f },
    };

    [Theory]
    [MemberData(nameof(Extremes))]
    public void Large_inputs_and_extreme_time_constants_give_no_NaN(LifKind model, double tau, double w, float scale)
    {
        foreach (var surrogate in new Surrogate[] { new Sigmoid(), new ATan(), new PiecewiseQuadratic(), new SoftSign(), new Erf(), new PiecewiseLeakyReLU(), new Rect() })
        {
            foreach (float? vReset in new float?[] { 0f, null })
            {
                foreach (bool decay in new[] { true, false })
                {
                    // With a non-vanishing tail (c = 0.01) and h ~ 1e30, the hard reset's true dv/dh = (v_r − h)·c is
                    // ~1e28 per step: the exact gradient overflows float32, so that case is not "valid input".
                    if (surrogate is PiecewiseLeakyReLU && vReset is not null && scale > 1e10f) continue;
                    var options = TestNeurons.Of(model, tau, decay, 1f, vReset, false, surrogate);
                    var rng = new Random(1);
                    var x = new float[8 * 40];
                    var g = new float[x.Length];
                    for (int i = 0; i < x.Length; i++)
                    {
                        x[i] = (float)(Reference.Normal(rng) * scale);
                        g[i] = (float)Reference.Normal(rng);
                    }
                    var run = NeuronHarness.Multi(options, w, x, g, new Shape(8, 40));
                    string what = $"{options} w={w} scale={scale}";
                    AssertFinite(run.H, what + " h");
                    AssertFinite(run.V, what + " v");
                    AssertFinite(run.GradX, what + " dL/dx");
                    AssertFinite([run.GradW], what + " dL/dw");
                }
            }
        }
    }

    [Fact]
    public void Empty_inputs_give_empty_outputs()
    {
        foreach (var dims in new[] { new[] { 0, 5 }, new[] { 3, 0 }, new[] { 2, 0, 4 } })
        {
            using var x = Variable.Input(Tensor.Zeros(dims));
            using var s = Functional.LifMultiStep(x);
            Assert.Equal(x.Shape, s.Shape);
            s.Backward(Tensor.Zeros(dims));
            Assert.Equal(0, x.Grad!.Length);
        }
    }

    [Fact]
    public void Inference_saves_nothing_and_records_no_graph()
    {
        // LIF, tau 2, x = 1.5: h = 0.75, 1.125 (spike, reset to 0), 0.75, 1.125 (spike).
        using var x = Variable.Input(Tensor.Full(new Shape(4, 10), 1.5f));
        using (GradMode.NoGrad())
        {
            using var s = Functional.LifMultiStep(x);
            Assert.Null(s.Creator);
            using var dense = s.ToDense();
            Assert.Equal(new[] { 0f, 1f, 0f, 1f }, new[] { dense.GetValue(0, 3), dense.GetValue(1, 3), dense.GetValue(2, 3), dense.GetValue(3, 3) });
        }
        using var constant = Variable.Constant(Tensor.Full(new Shape(4, 10), 0.6f));
        using var s2 = Functional.LifMultiStep(constant);
        Assert.Null(s2.Creator);
    }

    private static void AssertFinite(float[] values, string what)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i])) throw new Xunit.Sdk.XunitException($"{what}: element {i} is {values[i]}.");
        }
    }
}
