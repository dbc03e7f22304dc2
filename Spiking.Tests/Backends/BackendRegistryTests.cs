using System;
using Spiking.Tensors;
using Spiking.Tensors.Backends;
using Xunit;

namespace Spiking.Tests.Backends;

/// <summary>The backend registry and the seam's argument checks: errors name the device, the shapes and what was expected.</summary>
[Collection(SimulatedDevice.CollectionName)]
public sealed class BackendRegistryTests
{
    [Fact]
    public void TheCpuDeviceAlwaysGetsTheBuiltInBackendAndCannotBeReplaced()
    {
        Assert.Same(ComputeBackend.Cpu, ComputeBackend.For(Device.Cpu));
        var error = Assert.Throws<ArgumentException>(() => ComputeBackend.Register(DeviceKind.Cpu, _ => SimulatedDevice.Instance));
        Assert.Equal("kind", error.ParamName);
    }

    [Fact]
    public void A_second_backend_for_an_open_device_is_refused_with_the_open_ones_description()
    {
        Assert.Same(SimulatedDevice.Instance, ComputeBackend.For(SimulatedDevice.Instance.Device));
        var error = Assert.Throws<InvalidOperationException>(() => ComputeBackend.Register(SimulatedDevice.CreateUnregistered()));
        Assert.Contains("cuda:99", error.Message);
        Assert.Contains(SimulatedDevice.Instance.Description, error.Message);
    }

    [Fact]
    public void Prepend_puts_a_new_leading_axis_before_the_shape()
    {
        Assert.Equal(new Shape(4, 2, 3), Shape.Prepend(4, new Shape(2, 3)));
        Assert.Equal(new Shape(5), Shape.Prepend(5, new Shape()));
    }

    [Fact]
    public void Repeated_bernoulli_draws_check_the_destination_shape_and_device()
    {
        var generator = new PhiloxGenerator(1);
        using var p = Tensor.Full(new Shape(2, 3), 0.5f);
        using var wrongShape = SpikeTensor.Zeros(3, 2, 4);
        var shapeError = Assert.Throws<ArgumentException>(() => generator.Bernoulli(p, 3, wrongShape));
        Assert.Contains("[3, 2, 4]", shapeError.Message);
        Assert.Contains("[3, 2, 3]", shapeError.Message);
        using var onDevice = SpikeTensor.Zeros(new Shape(3, 2, 3), SimulatedDevice.Instance.Device);
        var deviceError = Assert.Throws<ArgumentException>(() => generator.Bernoulli(p, 3, onDevice));
        Assert.Contains("cuda:99", deviceError.Message);
        Assert.Equal(0UL, generator.Offset);
    }
}
