using System;

namespace Spiking.Layers;

/// <summary>
/// How a <see cref="LanguageModelTrainer"/> trains: SpikeGPT's recipe (the official <c>train.py</c> as the reference
/// script <c>torch_spikegpt.py</c> shrinks it) by default. Adam with β = (0.9, 0.99), ε = 4e-9 and no weight decay;
/// the rate decays from <see cref="LearningRate"/> to <see cref="FinalLearningRate"/> on a cosine over
/// <see cref="Steps"/> optimizer steps with no warm-up; the gradient's 2-norm is clipped to <see cref="ClipNorm"/>;
/// each step draws <see cref="Batch"/> windows of <see cref="Context"/> + 1 characters.
/// </summary>
/// <param name="Steps">Optimizer steps; the cosine spans them.</param>
/// <param name="Context">Input characters per window (ctx_len).</param>
/// <param name="Batch">Windows per step.</param>
/// <param name="LearningRate">The rate of step 0.</param>
/// <param name="FinalLearningRate">The rate the cosine reaches at step <see cref="Steps"/> (never used: the last step is <c>Steps − 1</c>).</param>
/// <param name="Beta1">Adam's β1.</param>
/// <param name="Beta2">Adam's β2.</param>
/// <param name="Epsilon">Adam's ε.</param>
/// <param name="ClipNorm">The largest 2-norm of all gradients together.</param>
public sealed record LanguageModelRecipe(
    int Steps,
    int Context = 128,
    int Batch = 16,
    double LearningRate = 6e-4,
    double FinalLearningRate = 1e-5,
    double Beta1 = 0.9,
    double Beta2 = 0.99,
    double Epsilon = 4e-9,
    double ClipNorm = 1.0)
{
    /// <summary>Refuses a recipe no run can follow, naming the field and its value.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A count is below 1, a rate is not positive and finite, or a clip norm is not.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Steps, 1, nameof(Steps));
        ArgumentOutOfRangeException.ThrowIfLessThan(Context, 1, nameof(Context));
        ArgumentOutOfRangeException.ThrowIfLessThan(Batch, 1, nameof(Batch));
        Positive(LearningRate, nameof(LearningRate));
        Positive(FinalLearningRate, nameof(FinalLearningRate));
        Positive(ClipNorm, nameof(ClipNorm));
    }

    private static void Positive(double value, string name)
    {
        if (!(value > 0) || !double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(name, value, $"'{name}' is {value}; it must be positive and finite.");
        }
    }
}
