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
/// A naive double-precision ILIF and its backward through time, from the golden README's equations: the count by
/// <see cref="Math.Round(double, MidpointRounding)"/> to even, the rectangular window with both ends included, the
/// soft reset's derivative written out.
/// </summary>
public static class IlifReference
{
    public static ReferenceRun Run(IlifNeuron model, float[] x, float[] g, int steps)
    {
        int m = x.Length / steps;
        double theta = model.VThreshold, decay = 1 - 1 / model.Tau, gradMin = model.GradMin, gradMax = model.GradMax;
        int maxCount = model.MaxSpikeCount;
        var h = new double[x.Length];
        var v = new double[x.Length];
        var c = new double[x.Length];
        var distance = new double[x.Length];
        for (int i = 0; i < m; i++)
        {
            double state = 0;
            for (int t = 0; t < steps; t++)
            {
                int e = t * m + i;
                double hv = state * decay + x[e];
                double count = Math.Round(Math.Clamp(hv / theta, 0, maxCount), MidpointRounding.ToEven);
                state = hv - count * theta;
                (h[e], v[e], c[e]) = (hv, state, count);
                double d = Math.Min(Math.Abs(hv - theta * gradMin), Math.Abs(hv - theta * gradMax));
                for (int j = 0; j < maxCount; j++) d = Math.Min(d, Math.Abs(hv - theta * (j + 0.5)));
                distance[e] = d;
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
                double u = h[e] / theta;
                double dsdh = u >= gradMin && u <= gradMax ? 1 / theta : 0;
                double gh = g[e] * dsdh + gv * (model.DetachReset ? 1 : 1 - theta * dsdh);
                gx[e] = gh;
                gxScale[e] = Math.Abs(g[e] * dsdh) + gvScale * (model.DetachReset ? 1 : 1 + theta * dsdh);
                gv = gh * decay;
                gvScale = gxScale[e] * decay;
            }
        }
        return new ReferenceRun { Output = c, Traces = new Dictionary<string, double[]> { ["h"] = h, ["v"] = v }, GradX = gx, GradXScale = gxScale, Distance = distance };
    }
}

/// <summary>SpikingJelly's ILIFNode (<see cref="IlifNeuron"/>): against the double reference, the op composition, the golden cases, single steps and split sequences.</summary>
public sealed class IlifTests
{
    public static TheoryData<int, bool, bool> Variants()
    {
        var data = new TheoryData<int, bool, bool>();
        foreach (int maxCount in new[] { 1, 4, 8 })
        {
            foreach (bool window in new[] { true, false })
            {
                foreach (bool detach in new[] { true, false }) data.Add(maxCount, window, detach);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Every_count_window_and_detach_matches_the_double_reference(int maxCount, bool window, bool detach)
    {
        Check(new IlifCase([7, 4, 6, 70], 4.0 / 3.0, 1f, maxCount, window ? [0.5, maxCount - 0.5] : null, detach, 42));
        Check(new IlifCase([5, 3, 33], 2.0, 0.3f, maxCount, window ? [-0.5, 1.5] : null, detach, 43));
    }

    [Theory]
    [InlineData(3, 2, 4100)]
    [InlineData(4, 300, 28)]
    [InlineData(2, 5000, 1)]
    [InlineData(5, 3, 63)]
    public void Chunk_and_row_edges_match_the_double_reference(int steps, int rows, int rowLength) =>
        Check(new IlifCase([steps, rows, rowLength], 1.5, 0.25f, 8, null, false, 7));

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 40)]
    public void Random_problems_match_the_double_reference(IlifCase c) => Check(c);

    [Theory]
    [MemberData(nameof(Variants))]
    public void The_fused_op_equals_its_composition_from_ops(int maxCount, bool window, bool detach)
    {
        var c = new IlifCase([5, 3, 37], 4.0 / 3.0, 0.5f, maxCount, window ? [0.5, 2.5] : null, detach, 11);
        var model = c.Model();
        var (x, g) = c.Inputs();
        var fused = ModelHarness.Multi(model, [], x, g, c.Shape);
        var composed = ModelHarness.Composed((input, _) => ComposedNeurons.Ilif(input, model), [], x, g, c.Shape);
        Assert.Equal(composed.Output, fused.Output);
        Golden.AssertClose(Array.ConvertAll(composed.GradX, v => (double)v), fused.GradX, "dL/dx", rel: 1e-5, abs: 1e-6);
    }

    public static TheoryData<string> GoldenCases() => ModelHarness.GoldenMoreCases("ILIFNode");

    [Theory]
    [MemberData(nameof(GoldenCases))]
    public void Every_golden_case_passes_the_conformance_check(string id) => ModelHarness.AssertGoldenMoreCasePasses(id);

    [Theory]
    [InlineData(false, 3)]
    [InlineData(true, 1)]
    public void Single_steps_and_a_split_sequence_equal_one_call(bool detach, int first)
    {
        var c = new IlifCase([6, 3, 70], 4.0 / 3.0, 0.5f, 4, null, detach, 123);
        var model = c.Model();
        var (x, g) = c.Inputs();
        var multi = ModelHarness.Multi(model, [], x, g, c.Shape);
        ModelHarness.AssertSame(multi, ModelHarness.SingleSteps(model, [], x, g, c.Shape), "single steps");
        var split = ModelHarness.Split(model, [], x, g, c.Shape, first);
        ModelHarness.AssertSame(multi, split, $"split at step {first}");
        Reference.AssertBitwise(multi.Traces["v"].AsSpan(5 * 210, 210), split.Traces["v_final"], "carried v");
    }

    [Fact]
    public void Counts_round_half_to_even_and_clamp_at_zero_and_D()
    {
        // One step from v = 0, so h = x and the count is round(clamp(x/θ, 0, 8)).
        var model = new IlifNeuron { MaxSpikeCount = 8, VThreshold = 0.5f };
        float[] x = [0.25f, 0.75f, 1.25f, 1.75f, 2.25f, 2.75f, 10f, -0.25f, -7f, 0.26f];
        var run = ModelHarness.Multi(model, [], x, new float[x.Length], new Shape(1, x.Length));
        Assert.Equal([0f, 2f, 2f, 4f, 4f, 6f, 8f, 0f, 0f, 1f], run.Output);
        Assert.Equal(Array.ConvertAll(x, (float xi) => xi - 0.5f * Math.Clamp(MathF.Round(xi / 0.5f, MidpointRounding.ToEven), 0f, 8f)), run.Traces["v"]);
    }

    [Fact]
    public void The_gradient_window_includes_both_ends()
    {
        var model = new IlifNeuron { VThreshold = 0.5f, GradWindow = (0.5, 3.5) };
        // h/θ at 0.5 and 3.5 exactly pass 1/θ = 2; just outside, nothing.
        float[] x = [0.25f, 1.75f, 0.2499f, 1.7501f, 1f];
        var run = ModelHarness.Multi(model, [], x, [1, 1, 1, 1, 1], new Shape(1, 5));
        Assert.Equal([2f, 2f, 0f, 0f, 2f], run.GradX);
    }

    [Fact]
    public void The_layer_counts_the_sum_of_the_counts()
    {
        using var layer = new SpikingNeuron(new IlifNeuron()) { CountSpikes = true };
        using var x = Variable.Input(Tensor.FromArray([3f, 0.2f, 9f, 0.1f], 2, 2));
        using var y = layer.Forward(x);
        // Step 0: counts 3 and 0 (v = 0, 0.2); step 1: h = 9 and 0.2·0.25 + 0.1 = 0.15 → 4 and 0.
        Assert.Equal([3f, 0f, 4f, 0f], y.Dense.ToArray());
        Assert.Equal((7L, 4L), (layer.SpikeCount, layer.NeuronSteps));
    }

    [Fact]
    public void Defaults_settings_and_names_are_SpikingJellys()
    {
        var model = IlifNeuron.FromSpikingJelly(new NeuronSettings("ILIFNode", new Dictionary<string, object?>()));
        Assert.Equal((4.0 / 3.0, 1f, 4, (ValueTuple<double, double>?)null, false), (model.Tau, model.VThreshold, model.MaxSpikeCount, model.GradWindow, model.DetachReset));
        Assert.Equal((0.0, 4.0), (model.GradMin, model.GradMax));
        Assert.Null(model.Surrogate);
        Assert.Equal("spike", model.OutputName);
        Assert.Equal("ILIF(tau=1.3333333333333333, v_threshold=1, surrogate=MultiLevelSpikeCount(max_spike_count=4, grad_window=None), detach_reset=False)", model.ToString());
        var windowed = IlifNeuron.FromSpikingJelly(new NeuronSettings("ILIFNode", new Dictionary<string, object?>
        {
            ["tau"] = 2.0, ["v_threshold"] = 0.5, ["detach_reset"] = true,
            ["surrogate_function"] = Surrogate(new() { ["max_spike_count"] = 8.0, ["grad_window"] = new double[] { 0.5, 7.5 }, ["spiking"] = true }),
        }));
        Assert.Equal((2.0, 0.5f, 8, (0.5, 7.5), true), (windowed.Tau, windowed.VThreshold, windowed.MaxSpikeCount, windowed.GradWindow!.Value, windowed.DetachReset));
    }

    public static TheoryData<string, Dictionary<string, object?>> InvalidSettings() => new()
    {
        { "tau", new() { ["tau"] = 1.0 } },
        { "v_threshold", new() { ["v_threshold"] = 0.0 } },
        { "v_threshold", new() { ["v_threshold"] = -1.0 } },
        { "surrogate", new() { ["surrogate"] = new Dictionary<string, object?> { ["name"] = "ATan", ["params"] = null } } },
        { "max_spike_count", new() { ["surrogate"] = Surrogate(new() { ["max_spike_count"] = 0.0 }) } },
        { "max_spike_count", new() { ["surrogate"] = Surrogate(new() { ["max_spike_count"] = 2.5 }) } },
        { "grad_window", new() { ["surrogate"] = Surrogate(new() { ["grad_window"] = new double[] { 3, 1 } }) } },
        { "grad_window", new() { ["surrogate"] = Surrogate(new() { ["grad_window"] = new double[] { 1 } }) } },
        { "spiking", new() { ["surrogate"] = Surrogate(new() { ["spiking"] = false }) } },
        { "alpha", new() { ["surrogate"] = Surrogate(new() { ["alpha"] = 2.0 }) } },
        { "detach_reset", new() { ["detach_reset"] = "no" } },
    };

    [Theory]
    [MemberData(nameof(InvalidSettings))]
    public void Invalid_settings_name_the_setting(string setting, Dictionary<string, object?> values)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => IlifNeuron.FromSpikingJelly(new NeuronSettings("ILIFNode", values)));
        Assert.Equal(setting, e.ParamName);
    }

    [Fact]
    public void A_surrogate_set_on_the_model_is_refused_rather_than_ignored()
    {
        using var x = Variable.Input(Tensor.Zeros(2, 3));
        var e = Assert.Throws<InvalidOperationException>(() => Functional.Neuron(x, new IlifNeuron { Surrogate = new ATan() }));
        Assert.Contains("grad_window", e.Message, StringComparison.Ordinal);
    }

    private static Dictionary<string, object?> Surrogate(Dictionary<string, object?> parameters) =>
        new() { ["name"] = "MultiLevelSpikeCount", ["params"] = parameters };

    internal static void Check(IlifCase c)
    {
        var model = c.Model();
        var (x, g) = c.Inputs();
        var expected = IlifReference.Run(model, x, g, c.Steps);
        Assert.True(expected.Margin >= 1e-3, $"{c}: margin {expected.Margin}");
        ModelHarness.AssertMatches(expected, ModelHarness.Multi(model, [], x, g, c.Shape), exactOutput: true, c.ToString());
    }
}
