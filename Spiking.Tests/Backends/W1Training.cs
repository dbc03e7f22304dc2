using System;
using System.Collections.Generic;
using Spiking.Autograd;
using Spiking.Layers;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Backends;

/// <summary>
/// A few W1 training steps (a small SpikingMlp, Poisson input sampled on the device, firing-rate MSE, Adam) on a
/// device, and the comparison with the CPU run: losses to 5 places, parameters within 1e-5.
/// </summary>
internal static class W1Training
{
    private const int Batch = 6, TimeSteps = 4, Pixels = 70;

    /// <summary>What a run leaves: the training losses and every parameter's values.</summary>
    public sealed record Result(double[] Losses, float[][] Parameters);

    /// <summary>Trains <paramref name="steps"/> steps on <paramref name="device"/>, calling <paramref name="afterStep"/> after each.</summary>
    public static Result Run(Device device, int steps, Action<int>? afterStep = null)
    {
        var generator = new PhiloxGenerator(5, 1);
        using var images = generator.Uniform(new Shape(Batch, Pixels));
        int[] labels = [0, 3, 9, 1, 3, 7];
        ModelSeed.Seed(11);
        using var model = ReferenceModels.SpikingMlp(inputs: Pixels, hidden: 40, classes: 10);
        model.To(device);
        using var optimizer = new Adam(model.Parameters(), 1e-2);
        var encoder = new PoissonEncoder(seed: 3, stream: 7);
        var trainer = new ClassifierTrainer(model, optimizer,
            x =>
            {
                using var onDevice = x.To(device);
                return Variable.Constant(encoder.Encode(onDevice, TimeSteps));
            },
            (output, y, _) => Losses.FiringRateMse(output, y));
        var losses = new double[steps];
        for (int s = 0; s < steps; s++)
        {
            losses[s] = trainer.TrainStep(images, labels).Loss;
            afterStep?.Invoke(s);
        }
        var parameters = new List<float[]>();
        foreach (var parameter in model.Parameters()) parameters.Add(parameter.Value.ToArray());
        return new Result(losses, parameters.ToArray());
    }

    public static void AssertSame(Result cpu, Result device)
    {
        Assert.Equal(cpu.Losses.Length, device.Losses.Length);
        for (int i = 0; i < cpu.Losses.Length; i++) Assert.Equal(cpu.Losses[i], device.Losses[i], 5);
        Assert.Equal(cpu.Parameters.Length, device.Parameters.Length);
        for (int p = 0; p < cpu.Parameters.Length; p++)
        {
            Assert.Equal(cpu.Parameters[p].Length, device.Parameters[p].Length);
            for (int i = 0; i < cpu.Parameters[p].Length; i++)
            {
                Assert.True(Math.Abs(cpu.Parameters[p][i] - device.Parameters[p][i]) <= 1e-5f,
                    $"parameter {p}[{i}]: cpu {cpu.Parameters[p][i]} vs device {device.Parameters[p][i]}");
            }
        }
    }
}
