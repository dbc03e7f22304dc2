using System;
using System.Collections.Generic;
using Spiking.Autograd;
using Spiking.Layers;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Backends;

/// <summary>
/// A few W2 training steps (SpikingCnn with 4 channels, the CLI's static prefix and direct encoding) on a device,
/// and the comparison with the CPU run: losses to 5 places, parameters and running statistics within 1e-5.
/// </summary>
internal static class W2Training
{
    private const int Steps = 3, Batch = 4, TimeSteps = 4;

    /// <summary>What a run leaves: the training losses, the loss in evaluation mode afterwards (running statistics), and every float state-dict entry by name.</summary>
    public sealed record Result(double[] Losses, double EvalLoss, Dictionary<string, float[]> State);

    /// <summary>Trains on <paramref name="device"/>, then evaluates once.</summary>
    public static Result Run(Device device)
    {
        var generator = new PhiloxGenerator(9, 2);
        using var images = generator.Uniform(new Shape(Batch, 1, 28, 28));
        int[] labels = [1, 4, 7, 1];
        ModelSeed.Seed(21);
        using var model = ReferenceModels.SpikingCnn(channels: 4);
        model.UseStaticPrefix(2, TimeSteps);
        // A stronger readout so that the output neurons fire and the losses tell the runs apart.
        var readout = ((Linear)model[9]).Weight.Value;
        readout.MultiplyInPlace(6f);
        model.To(device);
        using var optimizer = new Adam(model.Parameters(), 1e-3);
        Func<Tensor, Variable> encode = x =>
        {
            using var step = x.Reshape(1, Batch, 1, 28, 28);
            return Variable.Constant(step.To(device));
        };
        var trainer = new ClassifierTrainer(model, optimizer, encode, (output, y, _) => Losses.FiringRateMse(output, y));
        var losses = new double[Steps];
        for (int s = 0; s < Steps; s++) losses[s] = trainer.TrainStep(images, labels).Loss;
        model.Eval();
        double evalLoss;
        using (GradMode.NoGrad())
        {
            using var input = encode(images);
            using var output = model.Forward(input);
            using var loss = Losses.FiringRateMse(output, labels);
            evalLoss = loss.Tensor!.ToScalar();
        }
        var state = new Dictionary<string, float[]>();
        foreach (var entry in model.StateDict())
        {
            if (entry.Value is { } value) state[entry.Name] = value.ToArray();
        }
        return new Result(losses, evalLoss, state);
    }

    public static void AssertSame(Result cpu, Result device)
    {
        Assert.Equal(cpu.Losses.Length, device.Losses.Length);
        for (int i = 0; i < cpu.Losses.Length; i++) Assert.Equal(cpu.Losses[i], device.Losses[i], 5);
        Assert.Equal(cpu.EvalLoss, device.EvalLoss, 5);
        Assert.Equal(cpu.State.Keys, device.State.Keys);
        Assert.Contains("1.running_mean", cpu.State.Keys);
        foreach (var (name, expected) in cpu.State)
        {
            var actual = device.State[name];
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f, $"{name}[{i}]: cpu {expected[i]} vs device {actual[i]}");
            }
        }
    }
}
