using System;
using System.Buffers;
using Spiking.Autograd;
using Spiking.Tensors;

namespace Spiking.Layers;

public static partial class Losses
{
    /// <summary>
    /// The temporal efficient training loss (Deng, Li, Zhang and Gu, "Temporal Efficient Training of Spiking
    /// Neural Network via Gradient Re-weighting", ICLR 2022), as the authors' <c>TET_loss</c>:
    /// <c>(1 − λ) · (1/T) Σ_t CE(output_t, y) + λ · MSE(output, φ)</c>, the MSE averaged over all T·B·C elements
    /// against the constant <paramref name="phi"/>. The defaults λ = 1e-3 and φ = 1 are the authors' (<c>lamb</c>,
    /// <c>means</c>). The mean over t of per-step batch-mean cross-entropies equals one cross-entropy over the
    /// <c>[T·B, C]</c> rows with the labels repeated T times, which is how it is computed.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="output"/> is not <c>[T, B, C]</c> with T, B, C ≥ 1, or the label count is not B.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is outside <c>[0, C)</c>, or <paramref name="lambda"/> is outside [0, 1] or <paramref name="phi"/> is not finite.</exception>
    public static Variable Tet(Variable output, ReadOnlySpan<int> labels, double lambda = 1e-3, double phi = 1.0)
    {
        LossChecks.Output(output, nameof(Tet), nameof(output));
        LossChecks.Labels(labels, output.Shape, nameof(Tet), nameof(labels));
        if (!(lambda >= 0 && lambda <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(lambda), lambda, $"TET's 'lambda' is {lambda}; it weighs the MSE term as (1 - lambda) * CE + lambda * MSE, so it must be in [0, 1].");
        }
        if (!double.IsFinite(phi)) throw new ArgumentOutOfRangeException(nameof(phi), phi, $"TET's 'phi' is {phi}; it must be finite.");

        var shape = output.Shape;
        int steps = shape[0], batch = shape[1], classes = shape[2];
        using var dense = output.IsSpikes ? Functional.SpikesToDense(output) : null;
        var values = dense ?? output;
        var repeated = ArrayPool<int>.Shared.Rent(steps * batch);
        Variable crossEntropy;
        try
        {
            for (int t = 0; t < steps; t++) labels.CopyTo(repeated.AsSpan(t * batch, batch));
            using var rows = Functional.Reshape(values, steps * batch, classes);
            crossEntropy = Functional.CrossEntropy(rows, repeated.AsSpan(0, steps * batch));
        }
        finally
        {
            ArrayPool<int>.Shared.Return(repeated);
        }
        if (lambda == 0) return crossEntropy;

        using (crossEntropy)
        {
            using var target = Tensor.Full(shape, (float)phi);
            using var mse = Functional.MseLoss(values, target);
            using var weightedCe = Functional.Multiply(crossEntropy, (float)(1 - lambda));
            using var weightedMse = Functional.Multiply(mse, (float)lambda);
            return Functional.Add(weightedCe, weightedMse);
        }
    }
}
