using System;
using Spiking.Autograd;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>Argument checks shared by the losses, with messages that name what came and what was expected.</summary>
internal static class LossChecks
{
    /// <summary>Checks that <paramref name="output"/> is <c>[T, B, C]</c> with every size ≥ 1.</summary>
    public static void Output(Variable output, string loss, string paramName)
    {
        ArgumentNullException.ThrowIfNull(output, paramName);
        var shape = output.Shape;
        if (shape.Rank != 3 || shape[0] < 1 || shape[1] < 1 || shape[2] < 1)
        {
            throw new ArgumentException($"{loss} needs '{paramName}' of shape [T, B, C] with T, B, C >= 1; it has shape {shape}.", paramName);
        }
    }

    /// <summary>Checks one label per batch row, each in <c>[0, C)</c>.</summary>
    public static void Labels(ReadOnlySpan<int> labels, Shape output, string loss, string paramName)
    {
        int batch = output[1], classes = output[2];
        if (labels.Length != batch)
        {
            throw new ArgumentException($"{loss} got {labels.Length} labels for an output of shape {output}; it needs one per batch row ({batch}).", paramName);
        }
        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classes)
            {
                throw new ArgumentOutOfRangeException(paramName, labels[i], $"{paramName}[{i}] = {labels[i]} is outside [0, {classes}) for an output of shape {output}.");
            }
        }
    }

    /// <summary>A <c>[B, C]</c> one-hot tensor of <paramref name="labels"/> (already checked); the caller disposes it.</summary>
    public static Tensor OneHot(ReadOnlySpan<int> labels, int classes)
    {
        var target = Tensor.Zeros(labels.Length, classes);
        var t = target.AsSpan();
        for (int i = 0; i < labels.Length; i++) t[i * classes + labels[i]] = 1f;
        return target;
    }
}
