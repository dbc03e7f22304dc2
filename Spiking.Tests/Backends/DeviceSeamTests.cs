using System;
using System.Collections.Generic;
using Spiking.Autograd;
using Spiking.Autograd.Surrogates;
using Spiking.Layers;
using Spiking.Tensors;
using Spiking.Tensors.Backends;
using Xunit;

namespace Spiking.Tests.Backends;

/// <summary>
/// The device seam, exercised with <see cref="SimulatedDevice"/>: tensors move between host and device, ops on device
/// tensors ask the device's backend, and a W1-shaped training run on the device gives the CPU run's numbers.
/// The classes that allocate on the simulated device share a collection, so that its allocation count is exact.
/// </summary>
[Collection(SimulatedDevice.CollectionName)]
public sealed class DeviceSeamTests
{
    private static Device Sim => SimulatedDevice.Instance.Device;

    [Fact]
    public void TensorRoundTripsThroughTheDeviceAndRefusesHostSpans()
    {
        using var host = Tensor.FromArray([1f, -2f, 3.5f, 0f, 7f, 9f], 2, 3);
        using var device = host.To(Sim);
        Assert.Equal(Sim, device.Device);
        Assert.False(device.IsOnHost);
        var error = Assert.Throws<InvalidOperationException>(() => device.AsSpan());
        Assert.Contains("cuda:99", error.Message);
        Assert.Contains("To(Device.Cpu)", error.Message);
        using var row = device[1];
        Assert.Equal(new[] { 0f, 7f, 9f }, row.ToArray());
        using var back = device.To(Device.Cpu);
        Assert.Equal(host.ToArray(), back.ToArray());
        using var flat = device.Reshape(6);
        using var third = flat[2];
        Assert.Equal(3.5f, third.ToScalar());
    }

    [Fact]
    public void SpikeTensorRoundTripsThroughTheDevice()
    {
        using var values = Tensor.FromArray([1f, 0f, 1f, 1f, 0f, 0f, 1f, 0f], 2, 4);
        using var spikes = SpikeTensor.FromBinary(values);
        using var device = spikes.To(Sim);
        Assert.Equal(4, device.PopCount());
        Assert.Throws<InvalidOperationException>(() => device.Words.Length);
        using var back = device.To(Device.Cpu);
        Assert.Equal(spikes.Words.ToArray(), back.Words.ToArray());
    }

    [Fact]
    public void MixingDevicesInOneOpNamesBothDevices()
    {
        using var w = Tensor.Zeros(3, 4).To(Sim);
        using var weight = Variable.Parameter(w);
        using var x = Variable.Constant(Tensor.Zeros(2, 4));
        var error = Assert.Throws<ArgumentException>(() => Functional.Linear(x, weight));
        Assert.Contains("cpu", error.Message);
        Assert.Contains("cuda:99", error.Message);
    }

    [Fact]
    public void BuffersMoveWithTheModelAndTheStateDictNamesTheMovedTensors()
    {
        using var cnn = ReferenceModels.SpikingCnn(channels: 4);
        var norm = (BatchNorm2d)cnn[1];
        norm.RunningMean.Fill(0.25f);
        cnn.To(Sim);
        Assert.Equal(Sim, norm.RunningMean.Device);
        Assert.Equal(Sim, norm.RunningVar.Device);
        foreach (var entry in cnn.StateDict())
        {
            if (entry.Value is { } value) Assert.Equal(Sim, value.Device);
        }
        cnn.To(Device.Cpu);
        Assert.Equal([0.25f, 0.25f, 0.25f, 0.25f], norm.RunningMean.ToArray());
        Assert.True(norm.RunningMean.IsOnHost);
    }

    [Fact]
    public void ParametricLifOnADeviceIsRefusedWithAReason()
    {
        using var x = Variable.Constant(Tensor.Full(new Shape(2, 3), 0.7f).To(Sim));
        using var w = Variable.Parameter(Tensor.Scalar(0f).To(Sim));
        var error = Assert.Throws<NotSupportedException>(() => Functional.ParametricLifMultiStep(x, w));
        Assert.Contains("ParametricLIF neuron", error.Message, StringComparison.Ordinal);
        Assert.Contains(Sim.ToString(), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void W1TrainingOnTheDeviceMatchesTheCpu()
    {
        W1Training.AssertSame(W1Training.Run(Device.Cpu, steps: 3), W1Training.Run(Sim, steps: 3));
        Assert.True(SimulatedDevice.Instance.Launches.GetValueOrDefault("SpikeLinear") > 0);
        Assert.True(SimulatedDevice.Instance.Launches.GetValueOrDefault("SpikeWeightGradient") > 0);
        Assert.True(SimulatedDevice.Instance.Launches.GetValueOrDefault("NeuronBackward") > 0);
        Assert.True(SimulatedDevice.Instance.Launches.GetValueOrDefault("AdamStep") > 0);
        Assert.True(SimulatedDevice.Instance.Launches.GetValueOrDefault("Bernoulli") > 0);
    }

    [Fact]
    public void W2TrainingOnTheDeviceMatchesTheCpu()
    {
        var cpu = W2Training.Run(Device.Cpu);
        var launches = new Dictionary<string, int>(SimulatedDevice.Instance.Launches);
        var device = W2Training.Run(Sim);
        W2Training.AssertSame(cpu, device);
        foreach (var kernel in new[] { "Im2Col", "Col2Im", "TransposeBatched", "BatchNormForward", "BatchNormBackward", "MaxPoolBits", "MaxPoolBackwardBits" })
        {
            Assert.True(SimulatedDevice.Instance.Launches.GetValueOrDefault(kernel) > launches.GetValueOrDefault(kernel), $"{kernel} did not run on the device");
        }
    }

    [Fact]
    public void AdamFreesItsDeviceMomentsWhenDisposedAndThenRefusesToStep()
    {
        using var weight = new Parameter(Tensor.FromArray([0.5f, -1f, 2f, 0.25f], 2, 2).To(Sim), "weight");
        using var target = Tensor.Zeros(new Shape(2, 2));
        using (var loss = Functional.MseLoss(weight.Variable, target)) loss.Backward();
        int before = SimulatedDevice.Instance.LiveAllocations;
        var adam = new Adam([weight], 0.1);
        adam.Step();
        Assert.Equal(before + 2, SimulatedDevice.Instance.LiveAllocations);
        Assert.Equal([0.4f, -0.9f, 1.9f, 0.15f], weight.Value.ToArray(), (a, b) => Math.Abs(a - b) < 1e-6f);
        adam.Dispose();
        adam.Dispose();
        Assert.Equal(before, SimulatedDevice.Instance.LiveAllocations);
        Assert.True(adam.IsDisposed);
        Assert.Throws<ObjectDisposedException>(adam.Step);
    }
}
