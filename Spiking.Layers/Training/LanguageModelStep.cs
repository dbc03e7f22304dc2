namespace Spiking.Layers;

/// <summary>What one <see cref="LanguageModelTrainer.TrainStep"/> did.</summary>
/// <param name="Step">The step's number, from 1.</param>
/// <param name="Loss">The mean cross-entropy of the batch in nats.</param>
/// <param name="LearningRate">The rate the step used.</param>
/// <param name="Seconds">Its wall time: sampling, forward, backward, clipping and the update (what tokens/s divides by).</param>
public readonly record struct LanguageModelStep(int Step, double Loss, double LearningRate, double Seconds);
