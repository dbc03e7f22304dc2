using System;
using Spiking.Autograd;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;
using Spiking.Tests.Backends;
using Xunit;

namespace Spiking.Tests.Neurons;

/// <summary>The parallel spiking neurons and few-spikes coding have no device kernel: on the simulated device they refuse, naming the op and the device.</summary>
[Collection(SimulatedDevice.CollectionName)]
public sealed class ParallelNeuronDeviceTests
{
    private static Device Sim => SimulatedDevice.Instance.Device;

    [Theory]
    [InlineData("PSN")]
    [InlineData("MaskedPSN")]
    [InlineData("SlidingPSN")]
    [InlineData("FewSpikeNode")]
    public void The_op_refuses_a_device_input_naming_itself_and_the_device(string node)
    {
        using var x = Variable.Constant(Tensor.Full(new Shape(3, 4), 0.7f).To(Sim));
        using var square = Variable.Parameter(Tensor.Zeros(3, 3));
        using var bias = Variable.Parameter(Tensor.Full(new Shape(3, 1), -1f));
        using var taps = Variable.Parameter(Tensor.Full(new Shape(2), 0.5f));
        using var scalar = Variable.Parameter(Tensor.Scalar(-1f));
        using var table = Tensor.FromArray([1f, 0.5f, 0.25f], 3);
        var error = Assert.Throws<NotSupportedException>(() => node switch
        {
            "PSN" => Functional.ParallelSpikingNeuron(x, square, bias, new ATan()),
            "MaskedPSN" => Functional.MaskedParallelSpikingNeuron(x, square, bias, 2, 1f, new ATan()),
            "SlidingPSN" => Functional.SlidingParallelSpikingNeuron(x, taps, scalar, new ATan()),
            _ => Functional.FewSpike(x, table, table, table, new Sigmoid()),
        });
        Assert.Contains($"The {node} neuron", error.Message, StringComparison.Ordinal);
        Assert.Contains(Sim.ToString(), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_device_weight_is_refused_as_well()
    {
        using var x = Variable.Constant(Tensor.Full(new Shape(3, 4), 0.7f));
        using var square = Variable.Parameter(Tensor.Zeros(3, 3).To(Sim));
        using var bias = Variable.Parameter(Tensor.Full(new Shape(3, 1), -1f));
        var error = Assert.Throws<NotSupportedException>(() => Functional.ParallelSpikingNeuron(x, square, bias, new ATan()));
        Assert.Contains("The PSN neuron (its weight)", error.Message, StringComparison.Ordinal);
        Assert.Contains(Sim.ToString(), error.Message, StringComparison.Ordinal);
    }
}
