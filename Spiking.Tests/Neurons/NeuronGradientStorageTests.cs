using System;
using System.Linq;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Cli.Neurons;
using Spiking.Layers;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Neurons;

/// <summary>
/// The fused neuron's backward writes the input's gradient over the values its forward saved when it alone holds them
/// and no second backward will read them: the same gradients, bit for bit, as into a new tensor (the traced run, whose
/// traces are views of the saved values and so keep them), traces left intact, and a retained graph still correct.
/// </summary>
public sealed class NeuronGradientStorageTests
{
    // Rows of 37 neurons: vector tails in every chunk; 5 steps.
    private static readonly Shape s_shape = new(5, 3, 37);

    public static TheoryData<string> FusedNeurons()
    {
        var data = new TheoryData<string>();
        foreach (var w in NeuronWorkloads.All)
        {
            using var layer = w.Layer();
            if (layer is SpikingNeuron) data.Add(w.Name);
        }
        return data;
    }

    private static (float[] GradX, float[][] GradParameters) Run(string name, bool traced, int backwards = 1)
    {
        var workload = NeuronWorkloads.All.Single(w => w.Name == name);
        using var layer = (SpikingNeuron)workload.Layer();
        var philox = new PhiloxGenerator(11);
        using var x = Variable.Input(philox.Normal(s_shape, 0.6f, 0.8f));
        using var g = philox.Normal(s_shape);
        using (DisposeScope.Begin())
        {
            NeuronTraces? traces = null;
            var y = traced ? layer.Forward(x, out traces) : layer.Forward(x);
            using (traces)
            {
                var before = traces?.Names.ToDictionary(n => n, n => traces[n].ToArray());
                for (int b = 0; b < backwards; b++) y.Backward(g, retainGraph: b + 1 < backwards);
                foreach (var (trace, values) in before ?? []) Reference.AssertBitwise(values, traces![trace].AsReadOnlySpan(), $"{name}: trace {trace} after the backward");
            }
        }
        return (x.Grad!.ToArray(), layer.Parameters().Select(p => p.Variable.Grad?.ToArray() ?? []).ToArray());
    }

    [Theory]
    [MemberData(nameof(FusedNeurons))]
    public void The_gradient_over_the_saved_values_equals_the_one_into_a_new_tensor(string neuron)
    {
        var (inPlace, inPlaceParameters) = Run(neuron, traced: false);
        var (fresh, freshParameters) = Run(neuron, traced: true);
        Reference.AssertBitwise(fresh, inPlace, $"{neuron}: input gradient");
        Assert.Equal(freshParameters.Length, inPlaceParameters.Length);
        for (int p = 0; p < freshParameters.Length; p++) Reference.AssertBitwise(freshParameters[p], inPlaceParameters[p], $"{neuron}: parameter {p}");
    }

    [Theory]
    [MemberData(nameof(FusedNeurons))]
    public void A_retained_graph_keeps_the_saved_values_for_the_next_backward(string neuron)
    {
        var (once, _) = Run(neuron, traced: false);
        var (twice, _) = Run(neuron, traced: false, backwards: 2);
        var doubled = once.Select(v => v + v).ToArray();
        Reference.AssertBitwise(doubled, twice, $"{neuron}: two backwards through a retained graph");
    }
}
