using System;

namespace Spiking.Layers;

/// <summary>
/// Cosine annealing from the base rate to <see cref="MinLearningRate"/> over <see cref="MaxEpochs"/> epochs, the
/// closed form of <c>torch.optim.lr_scheduler.CosineAnnealingLR</c> (SGDR without restarts):
/// <c>η_t = η_min + (η_base − η_min)·(1 + cos(π·t / T_max)) / 2</c>. Past T_max the cosine keeps going (the rate
/// rises again with period 2·T_max), as PyTorch's closed form does.
/// </summary>
public sealed class CosineAnnealingLR : LearningRateSchedule
{
    /// <summary>Attaches to <paramref name="optimizer"/> and sets its rate for epoch 0 (the base rate).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxEpochs"/> is less than 1, or <paramref name="minLearningRate"/> is negative, NaN or infinite.</exception>
    public CosineAnnealingLR(Optimizer optimizer, int maxEpochs, double minLearningRate = 0) : base(optimizer)
    {
        if (maxEpochs < 1) throw new ArgumentOutOfRangeException(nameof(maxEpochs), maxEpochs, $"'{nameof(maxEpochs)}' (T_max) is {maxEpochs}; it must be >= 1.");
        if (!(minLearningRate >= 0) || double.IsInfinity(minLearningRate))
        {
            throw new ArgumentOutOfRangeException(nameof(minLearningRate), minLearningRate, $"'{nameof(minLearningRate)}' (eta_min) is {minLearningRate}; it must be finite and >= 0.");
        }
        MaxEpochs = maxEpochs;
        MinLearningRate = minLearningRate;
        Apply();
    }

    /// <summary>T_max: the epochs from the base rate down to the minimum.</summary>
    public int MaxEpochs { get; }

    /// <summary>η_min: the rate at epoch T_max.</summary>
    public double MinLearningRate { get; }

    /// <inheritdoc />
    public override double LearningRateAt(int epoch) =>
        MinLearningRate + (BaseLearningRate - MinLearningRate) * (1 + Math.Cos(Math.PI * epoch / MaxEpochs)) / 2;
}
