using System;
using Spiking.Autograd.Surrogates;

namespace Spiking.Layers;

/// <summary>
/// The reference workloads of DESIGN.md, layer for layer and index for index as PyTorch builds them, so their
/// state dicts carry the same names and checkpoints move between the two.
/// </summary>
public static class ReferenceModels
{
    /// <summary>
    /// W1, the spiking MLP: <c>Sequential(Flatten, Linear(784, 512), LIF, Linear(512, 10), LIF)</c>; LIF with τ = 2,
    /// hard reset to 0, threshold 1, ATan(2). State dict: <c>1.weight</c>, <c>1.bias</c>, <c>3.weight</c>, <c>3.bias</c>.
    /// Input: Poisson spikes <c>[T, B, 784]</c> (or <c>[T, B, 28, 28]</c>).
    /// </summary>
    public static Sequential SpikingMlp(int inputs = 28 * 28, int hidden = 512, int classes = 10) => SpikingMlp(Lif, inputs, hidden, classes);

    /// <summary>
    /// W1 with each spiking layer made by <paramref name="neuron"/> instead of W1's LIF (e.g. a neuron with learnable
    /// parameters, which then join the state dict under the layer's index: <c>2.…</c>, <c>4.…</c>). Without
    /// <paramref name="spikingOutput"/> the output neuron is left out and the model returns its last Linear's output
    /// <c>[T, B, classes]</c> as logits (IIR-SNN's non-spiking output layer).
    /// </summary>
    public static Sequential SpikingMlp(Func<Module> neuron, int inputs = 28 * 28, int hidden = 512, int classes = 10, bool spikingOutput = true)
    {
        ArgumentNullException.ThrowIfNull(neuron);
        Module[] layers = [new Flatten(), new Linear(inputs, hidden), neuron(), new Linear(hidden, classes)];
        return spikingOutput ? new([.. layers, neuron()]) : new(layers);
    }

    /// <summary>
    /// W2, the spiking CNN: <c>Sequential(Conv2d(1,32,3,p1,no bias), BatchNorm2d(32), LIF, MaxPool2d(2),
    /// Conv2d(32,32,3,p1,no bias), BatchNorm2d(32), LIF, MaxPool2d(2), Flatten, Linear(1568, 10), LIF)</c>.
    /// Input: the image as current at every step, <c>[T, B, 1, 28, 28]</c>.
    /// </summary>
    public static Sequential SpikingCnn(int channels = 32, int classes = 10) => SpikingCnn(Lif, channels, classes);

    /// <summary>
    /// W2 with each spiking layer made by <paramref name="neuron"/> instead of W2's LIF (e.g. a neuron with learnable
    /// parameters, which then join the state dict under the layer's index: <c>2.…</c>, <c>6.…</c>, <c>10.…</c>).
    /// Without <paramref name="spikingOutput"/> the output neuron is left out and the model returns its Linear's
    /// output <c>[T, B, classes]</c> as logits (IIR-SNN's non-spiking output layer).
    /// </summary>
    public static Sequential SpikingCnn(Func<Module> neuron, int channels = 32, int classes = 10, bool spikingOutput = true)
    {
        ArgumentNullException.ThrowIfNull(neuron);
        Module[] layers =
        [
            new Conv2d(1, channels, 3, padding: 1, bias: false),
            new BatchNorm2d(channels),
            neuron(),
            new MaxPool2d(2),
            new Conv2d(channels, channels, 3, padding: 1, bias: false),
            new BatchNorm2d(channels),
            neuron(),
            new MaxPool2d(2),
            new Flatten(),
            new Linear(channels * 7 * 7, classes),
        ];
        return spikingOutput ? new([.. layers, neuron()]) : new(layers);
    }

    private static LeakyIntegrateAndFire Lif() => new(tau: 2.0, decayInput: true, vThreshold: 1f, vReset: 0f, detachReset: false, new ATan(2.0));
}
