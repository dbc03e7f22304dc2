namespace Spiking.Tensors;

/// <summary>A 128-bit Philox4x32 block: four 32-bit words, used both as a counter and as an output.</summary>
/// <param name="X0">Word 0.</param>
/// <param name="X1">Word 1.</param>
/// <param name="X2">Word 2.</param>
/// <param name="X3">Word 3.</param>
public readonly record struct Philox4x32Block(uint X0, uint X1, uint X2, uint X3);
