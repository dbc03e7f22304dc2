using System;
using Spiking.Autograd;
using Spiking.Layers;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Layers;

public sealed class NormAndNeuronModuleTests
{
    [Fact]
    public void Batch_norm_modules_name_the_shapes_they_take()
    {
        using var norm1 = new BatchNorm1d(4);
        using var norm2 = new BatchNorm2d(4);
        using var five = Variable.Constant(Tensor.Zeros(2, 3, 4, 5, 5));
        using var three = Variable.Constant(Tensor.Zeros(2, 3, 4));
        var e1 = Assert.Throws<ArgumentException>(() => norm1.Forward(five));
        Assert.Contains("[T, B, 4] or [T, B, 4, L]", e1.Message, StringComparison.Ordinal);
        Assert.Contains("[2, 3, 4, 5, 5]", e1.Message, StringComparison.Ordinal);
        var e2 = Assert.Throws<ArgumentException>(() => norm2.Forward(three));
        Assert.Contains("[T, B, 4, H, W]", e2.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Batch_norm_counts_training_batches_and_leaves_running_statistics_alone_in_eval()
    {
        using var norm = new BatchNorm1d(3);
        using var x = Variable.Constant(new PhiloxGenerator(1).Normal(new Shape(2, 4, 3), 2f, 1f));
        using (DisposeScope.Begin()) norm.Forward(x);
        Assert.Equal(1, norm.BatchesTracked.Value);
        var mean = norm.RunningMean.ToArray();
        Assert.All(mean, m => Assert.NotEqual(0f, m));
        norm.Eval();
        using (DisposeScope.Begin()) norm.Forward(x);
        Assert.Equal(1, norm.BatchesTracked.Value);
        Assert.Equal(mean, norm.RunningMean.ToArray());
    }

    [Fact]
    public void Integrate_and_fire_module_equals_the_functional_neuron()
    {
        using var neuron = new IntegrateAndFire(vThreshold: 0.8f, vReset: null);
        using var x = Variable.Constant(new PhiloxGenerator(2).Normal(new Shape(5, 2, 7), 0.4f, 0.5f));
        using var scope = DisposeScope.Begin();
        var fromModule = neuron.Forward(x);
        var direct = Functional.Neuron(x, neuron.Model);
        Assert.Equal(direct.Spikes!.Words.ToArray(), fromModule.Spikes!.Words.ToArray());
        Assert.Throws<ArgumentException>(() => neuron.Forward(direct));
    }
}
