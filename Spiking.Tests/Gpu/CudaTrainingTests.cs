using System;
using System.Collections.Generic;
using Spiking.Autograd;
using Spiking.Gpu;
using Spiking.Layers;
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
        const int Steps = 4, Batch = 6, TimeSteps = 4, Pixels = 70;
        var generator = new PhiloxGenerator(5, 1);
        using var images = generator.Uniform(new Shape(Batch, Pixels));
        int[] labels = [0, 3, 9, 1, 3, 7];

        var (cpuLosses, cpuParameters, _) = Train(Device.Cpu);
        var (gpuLosses, gpuParameters, allocations) = Train(backend.Device);

        for (int i = 0; i < Steps; i++) Assert.Equal(cpuLosses[i], gpuLosses[i], 5);
        for (int p = 0; p < cpuParameters.Length; p++)
        {
            for (int i = 0; i < cpuParameters[p].Length; i++)
            {
                Assert.True(Math.Abs(cpuParameters[p][i] - gpuParameters[p][i]) <= 1e-5f,
                    $"parameter {p}[{i}]: cpu {cpuParameters[p][i]} vs cuda {gpuParameters[p][i]}");
            }
        }
        // Steps after the first reuse the blocks the first one left in the pool.
        Assert.Equal(allocations[1], allocations[^1]);

        (double[] Losses, float[][] Parameters, long[] Allocations) Train(Device device)
        {
            ModelSeed.Seed(11);
            using var model = ReferenceModels.SpikingMlp(inputs: Pixels, hidden: 40, classes: 10);
            model.To(device);
            var optimizer = new Adam(model.Parameters(), 1e-2);
            var encoder = new PoissonEncoder(seed: 3, stream: 7);
            var trainer = new ClassifierTrainer(model, optimizer,
                x =>
                {
                    using var onDevice = x.To(device);
                    return Variable.Constant(encoder.Encode(onDevice, TimeSteps));
                },
                (output, y, _) => Losses.FiringRateMse(output, y));
            var losses = new double[Steps];
            var allocated = new long[Steps];
            for (int s = 0; s < Steps; s++)
            {
                losses[s] = trainer.TrainStep(images, labels).Loss;
                allocated[s] = backend.Pool.Allocations;
            }
            var parameters = new List<float[]>();
            foreach (var parameter in model.Parameters()) parameters.Add(parameter.Value.ToArray());
            return (losses, parameters.ToArray(), allocated);
        }
    }

    [Fact]
    public void W2_training_on_cuda_matches_the_cpu()
    {
        if (!CudaBackend.IsAvailable(out var reason)) Assert.Skip(reason);
        var backend = CudaBackend.Open();
        Backends.W2Training.AssertSame(Backends.W2Training.Run(Device.Cpu), Backends.W2Training.Run(backend.Device));
    }
}
