using Spiking.Gpu;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Gpu;

/// <summary>
/// W1 (Poisson input, Linear, LIF, Linear, LIF, firing-rate MSE, Adam) and W2 (the spiking CNN with batch norm,
/// max pooling and a static prefix) trained on the CUDA backend: their losses, weights and running statistics follow
/// the CPU run, and once the first W1 step has sized the pool no step asks the driver for memory. Skips without
/// CUDA, as <see cref="CudaParityTests"/> do.
/// </summary>
[Collection("Cuda")]
public sealed class CudaTrainingTests
{
    [Fact]
    public void W1_training_on_cuda_matches_the_cpu_and_stops_allocating()
    {
        if (!CudaBackend.IsAvailable(out var reason)) Assert.Skip(reason);
        var backend = CudaBackend.Open();
        const int Steps = 4;
        var allocations = new long[Steps];
        var cpu = Backends.W1Training.Run(Device.Cpu, Steps);
        var cuda = Backends.W1Training.Run(backend.Device, Steps, step => allocations[step] = backend.Pool.Allocations);
        Backends.W1Training.AssertSame(cpu, cuda);
        // Steps after the first reuse the blocks the first one left in the pool.
        Assert.Equal(allocations[1], allocations[^1]);
    }

    [Fact]
    public void W2_training_on_cuda_matches_the_cpu()
    {
        if (!CudaBackend.IsAvailable(out var reason)) Assert.Skip(reason);
        var backend = CudaBackend.Open();
        Backends.W2Training.AssertSame(Backends.W2Training.Run(Device.Cpu), Backends.W2Training.Run(backend.Device));
    }
}
