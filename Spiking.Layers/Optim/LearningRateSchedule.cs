using System;

namespace Spiking.Layers;

/// <summary>
/// Sets an optimizer's learning rate as a function of the epoch, as <c>torch.optim.lr_scheduler</c> schedulers do:
/// the base rate is the optimizer's rate when the schedule is made (PyTorch's <c>initial_lr</c>), the schedule
/// starts at epoch 0 (applying that epoch's rate at once), and <see cref="Step"/> (PyTorch's
/// <c>scheduler.step()</c>, called after each epoch's optimizer steps) moves to the next epoch.
/// </summary>
public abstract class LearningRateSchedule
{
    /// <summary>Attaches to <paramref name="optimizer"/>, taking its current rate as the base rate.</summary>
    protected LearningRateSchedule(Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        Optimizer = optimizer;
        BaseLearningRate = optimizer.LearningRate;
    }

    /// <summary>The optimizer whose rate this schedule sets.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>The rate at epoch 0.</summary>
    public double BaseLearningRate { get; }

    /// <summary>The current epoch (PyTorch's <c>last_epoch</c>), 0 until the first <see cref="Step"/>.</summary>
    public int Epoch { get; private set; }

    /// <summary>The rate this schedule gives at <paramref name="epoch"/> ≥ 0.</summary>
    public abstract double LearningRateAt(int epoch);

    /// <summary>Moves to the next epoch and sets the optimizer's rate for it.</summary>
    public void Step()
    {
        Epoch++;
        Optimizer.LearningRate = LearningRateAt(Epoch);
    }

    /// <summary>Sets the optimizer's rate for the current epoch; derived constructors call it once they are set up.</summary>
    protected void Apply() => Optimizer.LearningRate = LearningRateAt(Epoch);
}
