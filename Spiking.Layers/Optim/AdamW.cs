using System;
using System.Collections.Generic;

namespace Spiking.Layers;

/// <summary>
/// AdamW (Loshchilov and Hutter, 2019) with <c>torch.optim.AdamW</c>'s update: the weights first shrink by
/// <c>p ← p·(1 − lr·wd)</c> (decoupled weight decay, not added to the gradient), then <see cref="Adam"/>'s update.
/// </summary>
public sealed class AdamW : Adam
{
    /// <summary>Creates the optimizer; the moment buffers are allocated here, once.</summary>
    /// <exception cref="ArgumentException">The parameter list is empty or repeats a parameter.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The learning rate, ε or weight decay is negative, a β is outside [0, 1), or a value is NaN or infinite.</exception>
    public AdamW(IEnumerable<Parameter> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 1e-2)
        : base(parameters, learningRate, beta1, beta2, epsilon, weightDecay, decoupled: true)
    {
    }
}
