using System;
using Spiking.Autograd;

namespace Spiking.Layers;

public static partial class Losses
{
    /// <summary>
    /// The cross-entropy of the firing rate (the mean over T of <paramref name="output"/> <c>[T, B, C]</c>) taken
    /// as logits against <paramref name="labels"/>, averaged over the batch: SpikingJelly's
    /// <c>F.cross_entropy(out.mean(0), label)</c>. The output may be spikes or dense.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="output"/> is not <c>[T, B, C]</c> with T, B, C ≥ 1, or the label count is not B.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is outside <c>[0, C)</c>.</exception>
    public static Variable FiringRateCrossEntropy(Variable output, ReadOnlySpan<int> labels)
    {
        LossChecks.Output(output, nameof(FiringRateCrossEntropy), nameof(output));
        LossChecks.Labels(labels, output.Shape, nameof(FiringRateCrossEntropy), nameof(labels));
        using var rate = Functional.MeanOverTime(output);
        return Functional.CrossEntropy(rate, labels);
    }
}
