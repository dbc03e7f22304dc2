using System;
using System.Globalization;

namespace Spiking.Layers;

/// <summary>
/// Training stopped because a value stopped being finite: the loss, a parameter's gradient (before the update that
/// would have spread it) or a parameter (after an update). Names the step, the parameter and the learning rate, the
/// usual cause; nothing further is updated once it is thrown.
/// </summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Describes the divergence.</summary>
    /// <param name="step">The training step (counted from 1) at which it was found.</param>
    /// <param name="quantity">What was not finite: <c>loss</c>, <c>gradient</c> or <c>parameter</c>.</param>
    /// <param name="parameterName">The parameter's state-dict name, or null for the loss.</param>
    /// <param name="value">The first non-finite value found.</param>
    /// <param name="learningRate">The optimizer's learning rate at that step.</param>
    public TrainingDivergedException(int step, string quantity, string? parameterName, double value, double learningRate)
        : base(Describe(step, quantity, parameterName, value, learningRate))
    {
        Step = step;
        Quantity = quantity;
        ParameterName = parameterName;
        Value = value;
        LearningRate = learningRate;
    }

    /// <summary>The training step (counted from 1 over the trainer's life) at which a value was not finite.</summary>
    public int Step { get; }

    /// <summary>What was not finite: <c>loss</c>, <c>gradient</c> or <c>parameter</c>.</summary>
    public string Quantity { get; }

    /// <summary>The state-dict name of the parameter whose gradient or value was not finite; null for the loss.</summary>
    public string? ParameterName { get; }

    /// <summary>The first non-finite value found (NaN or an infinity).</summary>
    public double Value { get; }

    /// <summary>The learning rate of the step.</summary>
    public double LearningRate { get; }

    private static string Describe(int step, string quantity, string? parameterName, double value, double learningRate)
    {
        string what = parameterName is null ? $"the {quantity} is {Format(value)}" : quantity == "gradient"
            ? $"the gradient of '{parameterName}' holds {Format(value)}"
            : $"parameter '{parameterName}' became {Format(value)} after the update";
        return string.Create(CultureInfo.InvariantCulture,
            $"training diverged at step {step}: {what}; the likely cause is a learning rate too high for this model (it is {learningRate:G4}): lower it");
    }

    private static string Format(double value) => double.IsNaN(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf";
}
