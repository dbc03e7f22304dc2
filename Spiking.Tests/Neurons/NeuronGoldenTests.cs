using System;
using System.Text.Json;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Neurons;

/// <summary>Every case of <c>../shared/golden/neurons.json</c> through the library API, multi-step and single-step.</summary>
public sealed class NeuronGoldenTests
{
    public static TheoryData<string> Cases() => Golden.CaseIds("neurons.json");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Multi_step_matches_SpikingJelly(string id) => Golden.WithCase("neurons.json", id, c =>
    {
        var (options, w, shape, x, g) = Read(c);
        var run = NeuronHarness.Multi(options, w, x, g, shape);
        Check(c, run, id, compareTraces: true);
    });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Single_steps_match_SpikingJelly(string id) => Golden.WithCase("neurons.json", id, c =>
    {
        var (options, w, shape, x, g) = Read(c);
        var run = NeuronHarness.SingleSteps(options, w, x, g, shape);
        Check(c, run, $"{id} (single-step)", compareTraces: true);
    });

    private static void Check(JsonElement c, EngineRun run, string what, bool compareTraces)
    {
        var spikes = Golden.Flat(c.GetProperty("spike_seq"));
        for (int i = 0; i < spikes.Length; i++)
        {
            if (spikes[i] != run.Spikes[i]) throw new Xunit.Sdk.XunitException($"{what}: spike {i} is {run.Spikes[i]}, expected {spikes[i]}.");
        }
        if (compareTraces)
        {
            Golden.AssertClose(Golden.Flat(c.GetProperty("v_seq")), run.V, $"{what} v_seq");
            Golden.AssertClose(Golden.Flat(c.GetProperty("h_seq")), run.H, $"{what} h_seq");
        }
        Golden.AssertClose(Golden.Flat(c.GetProperty("grad_x_seq")), run.GradX, $"{what} grad_x_seq");
        if (c.TryGetProperty("grad_w", out var gradW))
        {
            Golden.AssertClose([gradW.GetDouble()], [run.GradW], $"{what} grad_w");
        }
    }

    private static (ThresholdNeuron Options, double W, Shape Shape, float[] X, float[] G) Read(JsonElement c)
    {
        var p = c.GetProperty("params");
        var sg = p.GetProperty("surrogate");
        var sgParams = new System.Collections.Generic.Dictionary<string, double>();
        foreach (var item in sg.GetProperty("params").EnumerateObject()) sgParams[item.Name] = item.Value.GetDouble();
        var surrogate = Surrogate.Create(sg.GetProperty("name").GetString()!, sgParams);
        float? vReset = p.GetProperty("v_reset").ValueKind == JsonValueKind.Null ? null : (float)p.GetProperty("v_reset").GetDouble();
        float threshold = (float)p.GetProperty("v_threshold").GetDouble();
        bool detach = p.GetProperty("detach_reset").GetBoolean();
        ThresholdNeuron options = c.GetProperty("node").GetString() switch
        {
            "IFNode" => TestNeurons.IF(threshold, vReset, detach, surrogate),
            "LIFNode" => TestNeurons.Lif(p.GetProperty("tau").GetDouble(), p.GetProperty("decay_input").GetBoolean(), threshold, vReset, detach, surrogate),
            "ParametricLIFNode" => TestNeurons.ParametricLif(p.GetProperty("init_tau").GetDouble(), p.GetProperty("decay_input").GetBoolean(), threshold, vReset, detach, surrogate),
            var other => throw new Xunit.Sdk.XunitException($"unknown node {other}"),
        };
        double initialW = options is ParametricLifNeuron plif ? plif.InitialW : 0;
        double w = c.TryGetProperty("w", out var wElement) ? wElement.GetDouble() : initialW;
        if (options is ParametricLifNeuron) Assert.Equal(initialW, w, 12);
        var shape = new Shape(Golden.Ints(c.GetProperty("shape")));
        return (options, w, shape, Golden.Floats(c.GetProperty("x_seq")), Golden.Floats(c.GetProperty("G")));
    }
}
