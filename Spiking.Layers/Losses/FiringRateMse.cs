using System;
using Spiking.Autograd;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>Loss functions for multi-step outputs <c>[T, B, C]</c>, built from <see cref="Functional"/> ops so their gradients are automatic.</summary>
public static partial class Losses
{
    /// <summary>
    /// The mean squared error between the firing rate (the mean over T of <paramref name="output"/>
    /// <c>[T, B, C]</c>) and the one-hot <paramref name="labels"/>, averaged over B·C: SpikingJelly's MNIST
    /// examples' <c>F.mse_loss(out_fr, F.one_hot(label, C).float())</c>. The output may be spikes or dense.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="output"/> is not <c>[T, B, C]</c> with T, B, C ≥ 1, or the label count is not B.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is outside <c>[0, C)</c>.</exception>
    public static Variable FiringRateMse(Variable output, ReadOnlySpan<int> labels)
    {
        LossChecks.Output(output, nameof(FiringRateMse), nameof(output));
        LossChecks.Labels(labels, output.Shape, nameof(FiringRateMse), nameof(labels));
        using var target = LossChecks.OneHot(labels, output.Shape[2]);
        using var rate = Functional.MeanOverTime(output);
        return Functional.MseLoss(rate, target);
    }

    /// <summary>
    /// The mean squared error between the firing rate (the mean over T of <paramref name="output"/>
    /// <c>[T, B, C]</c>) and a dense <paramref name="target"/> <c>[B, C]</c> (soft labels, say), averaged over B·C.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="output"/> is not <c>[T, B, C]</c> with T, B, C ≥ 1, or <paramref name="target"/> is disposed or not <c>[B, C]</c>.</exception>
    public static Variable FiringRateMse(Variable output, Tensor target)
    {
        LossChecks.Output(output, nameof(FiringRateMse), nameof(output));
        ArgumentNullException.ThrowIfNull(target);
        if (target.IsDisposed) throw new ArgumentException($"{nameof(FiringRateMse)}: 'target' (shape {target.Shape}) has been disposed.", nameof(target));
        var shape = output.Shape;
        if (target.Rank != 2 || target.Shape[0] != shape[1] || target.Shape[1] != shape[2])
        {
            throw new ArgumentException(
                $"{nameof(FiringRateMse)} needs 'target' of shape [{shape[1]}, {shape[2]}] for an output of shape {shape}; it has shape {target.Shape}.",
                nameof(target));
        }
        using var rate = Functional.MeanOverTime(output);
        return Functional.MseLoss(rate, target);
    }
}
