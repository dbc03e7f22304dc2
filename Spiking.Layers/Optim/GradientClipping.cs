using System;
using System.Collections.Generic;
using System.Numerics.Tensors;

namespace Spiking.Layers;

/// <summary>Gradient-norm clipping, as <c>torch.nn.utils.clip_grad_norm_</c> with the 2-norm.</summary>
public static class GradientClipping
{
    /// <summary>
    /// Scales every gradient of <paramref name="parameters"/> by <c>maxNorm / (norm + 1e-6)</c> when that is below 1,
    /// where <c>norm</c> is the 2-norm of all gradients together (summed in double, parameter by parameter in order,
    /// so the result does not depend on threads). Parameters without a gradient are skipped.
    /// </summary>
    /// <returns>The total norm before clipping; not finite when a gradient is not (then nothing is scaled).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is not positive and finite.</exception>
    public static double ClipByNorm(IEnumerable<Parameter> parameters, double maxNorm)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(maxNorm > 0) || !double.IsFinite(maxNorm))
        {
            throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, $"'{nameof(maxNorm)}' is {maxNorm}; it must be positive and finite.");
        }
        var withGradients = new List<Parameter>();
        double sumOfSquares = 0;
        foreach (var parameter in parameters)
        {
            if (parameter.Grad is not { } grad) continue;
            withGradients.Add(parameter);
            var values = grad.AsReadOnlySpan();
            // Blocks of float dot products summed in double: float accuracy per block, no loss over millions of values.
            for (int start = 0; start < values.Length; start += 4096)
            {
                var block = values.Slice(start, Math.Min(4096, values.Length - start));
                sumOfSquares += TensorPrimitives.Dot(block, block);
            }
        }
        double norm = Math.Sqrt(sumOfSquares);
        double coefficient = maxNorm / (norm + 1e-6);
        if (double.IsFinite(norm) && coefficient < 1)
        {
            foreach (var parameter in withGradients)
            {
                var grad = parameter.Grad!.AsSpan();
                TensorPrimitives.Multiply(grad, (float)coefficient, grad);
            }
        }
        return norm;
    }
}
