using System;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// PyTorch's default initialisation of Linear and Conv2d (<c>kaiming_uniform_(a=√5)</c>, which comes to
/// <c>U(−1/√fan_in, 1/√fan_in)</c> for weights and biases alike), drawn from a Philox generator so that a seed
/// builds the same model on every machine and thread count.
/// </summary>
public static class Initialization
{
    /// <summary>Fills <paramref name="destination"/> from <c>U(−1/√fanIn, 1/√fanIn)</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fanIn"/> is not positive.</exception>
    public static void FanInUniform(Tensor destination, int fanIn, PhiloxGenerator generator)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fanIn);
        float bound = 1f / MathF.Sqrt(fanIn);
        var span = destination.AsSpan();
        generator.FillUniform(span);
        for (int i = 0; i < span.Length; i++) span[i] = (2f * span[i] - 1f) * bound;
    }
}
