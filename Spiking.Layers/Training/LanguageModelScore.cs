namespace Spiking.Layers;

/// <summary>What <see cref="LanguageModelEvaluation.Evaluate"/> measured.</summary>
/// <param name="BitsPerCharacter">The mean cross-entropy per predicted character in bits.</param>
/// <param name="TotalNats">The summed cross-entropy in nats.</param>
/// <param name="Characters">The characters predicted: the tokens less the first.</param>
/// <param name="Energy">Firing rates and operations per character, when counted; else null.</param>
public sealed record LanguageModelScore(double BitsPerCharacter, double TotalNats, int Characters, EnergyReport? Energy);
