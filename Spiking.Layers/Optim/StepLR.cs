using System;

namespace Spiking.Layers;

/// <summary>
/// Multiplies the base rate by <see cref="Gamma"/> every <see cref="StepSize"/> epochs, as
/// <c>torch.optim.lr_scheduler.StepLR</c>: <c>η_t = η_base · γ^⌊t / step_size⌋</c>.
/// </summary>
public sealed class StepLR : LearningRateSchedule
{
    /// <summary>Attaches to <paramref name="optimizer"/> and sets its rate for epoch 0 (the base rate).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="stepSize"/> is less than 1, or <paramref name="gamma"/> is negative, NaN or infinite.</exception>
    public StepLR(Optimizer optimizer, int stepSize, double gamma = 0.1) : base(optimizer)
    {
        if (stepSize < 1) throw new ArgumentOutOfRangeException(nameof(stepSize), stepSize, $"'{nameof(stepSize)}' is {stepSize}; it must be >= 1.");
        if (!(gamma >= 0) || double.IsInfinity(gamma))
        {
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, $"'{nameof(gamma)}' is {gamma}; it must be finite and >= 0.");
        }
        StepSize = stepSize;
        Gamma = gamma;
        Apply();
    }

    /// <summary>The epochs between decays.</summary>
    public int StepSize { get; }

    /// <summary>The factor applied at each decay.</summary>
    public double Gamma { get; }

    /// <inheritdoc />
    public override double LearningRateAt(int epoch) => BaseLearningRate * Math.Pow(Gamma, epoch / StepSize);
}
