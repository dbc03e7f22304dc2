using System;
using System.Text.Json;
using Spiking.Autograd.Neurons;
using Spiking.Cli.Conformance;
using Spiking.Layers;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Neurons;

/// <summary>
/// Every QIF, EIF and Izhikevich case of <c>../shared/golden-more/neurons_more.json</c> through the conformance runner
/// (the layer the catalog builds from the case's <c>params</c>; spikes, <c>v_seq</c>, <c>h_seq</c>, <c>w_seq</c>, loss,
/// firing rate, <c>grad_x_seq</c>), and through <see cref="SingleStepNeuron"/> step by step.
/// </summary>
public sealed class RecurrentNeuronGoldenTests
{
    private const string File = "../golden-more/neurons_more.json";

    /// <summary>The ids of the QIF, EIF and Izhikevich cases, or the placeholder whose test fails when the file is absent.</summary>
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        var path = Golden.Available ? System.IO.Path.Combine(Golden.Directory, File) : null;
        if (path is null || !System.IO.File.Exists(path))
        {
            data.Add(Golden.MissingId);
            return data;
        }
        using var doc = JsonDocument.Parse(System.IO.File.ReadAllBytes(path));
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            if (c.GetProperty("node").GetString() is "QIFNode" or "EIFNode" or "IzhikevichNode") data.Add(c.GetProperty("id").GetString()!);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_conformance_runner_passes_the_case(string id) => Golden.WithCase(File, id, c =>
    {
        var check = new CaseCheck();
        NeuronCases.Check(c, id, check);
        Assert.True(check.Passed, $"{id}: {string.Join("; ", check.Failures)}");
    });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Single_steps_match_SpikingJelly(string id) => Golden.WithCase(File, id, c =>
    {
        var node = c.GetProperty("node").GetString()!;
        using var layer = (SpikingNeuron)NeuronCatalog.Create(NeuronCases.Settings(node, c.GetProperty("params"), id));
        var shape = new Shape(Golden.Ints(c.GetProperty("shape")));
        var run = RecurrentHarness.SingleSteps(layer.Model, Golden.Floats(c.GetProperty("x_seq")), Golden.Floats(c.GetProperty("G")), shape);
        var spikes = Golden.Flat(c.GetProperty("spike_seq"));
        for (int i = 0; i < spikes.Length; i++)
        {
            if (spikes[i] != run.Spikes[i]) throw new Xunit.Sdk.XunitException($"{id}: spike {i} is {run.Spikes[i]}, expected {spikes[i]}.");
        }
        foreach (var name in run.Traces.Keys)
        {
            Golden.AssertClose(Golden.Flat(c.GetProperty(name + "_seq")), run.Traces[name], $"{id} {name}_seq");
        }
        Golden.AssertClose(Golden.Flat(c.GetProperty("grad_x_seq")), run.GradX, $"{id} grad_x_seq");
    });

    [Fact]
    public void Every_class_has_cases()
    {
        using var doc = JsonDocument.Parse(System.IO.File.ReadAllBytes(Golden.File(File)));
        Assert.Equal("neurons_more", doc.RootElement.GetProperty("meta").GetProperty("family").GetString());
        foreach (var node in new[] { "QIFNode", "EIFNode", "IzhikevichNode" })
        {
            int count = 0;
            foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray()) count += c.GetProperty("node").GetString() == node ? 1 : 0;
            Assert.True(count >= 4, $"{node}: {count} cases");
        }
    }
}
