using System;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;
using Spiking.Tests.Backends;
using Xunit;

namespace Spiking.Tests.Neurons;

/// <summary>No device has a kernel for QIF, EIF, Izhikevich, ALIF or CubaLIF: on the simulated device the op refuses, naming the model and the device.</summary>
[Collection(SimulatedDevice.CollectionName)]
public sealed class RecurrentNeuronDeviceTests
{
    public static TheoryData<RecurrentKind> Kinds() => new(RecurrentModels.Kinds);

    [Theory]
    [MemberData(nameof(Kinds))]
    public void The_op_refuses_device_tensors(RecurrentKind kind)
    {
        var device = SimulatedDevice.Instance.Device;
        var model = RecurrentModels.Of(kind, 0, 1f, 0f, false, new ATan());
        using var x = Variable.Constant(Tensor.Full(new Shape(3, 2, 5), 0.7f).To(device));
        var error = Assert.Throws<NotSupportedException>(() => Functional.Neuron(x, model));
        Assert.Contains($"{model.Name} neuron", error.Message, StringComparison.Ordinal);
        Assert.Contains(device.ToString(), error.Message, StringComparison.Ordinal);
        using var step = new SingleStepNeuron(model);
        using var xt = Variable.Constant(Tensor.Full(new Shape(2, 5), 0.7f).To(device));
        Assert.Contains(model.Name, Assert.Throws<NotSupportedException>(() => step.Step(xt)).Message, StringComparison.Ordinal);
    }
}
