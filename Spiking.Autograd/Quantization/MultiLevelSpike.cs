using System;

namespace Spiking.Autograd;

/// <summary>
/// The multi-level spike of the QSD-Transformer's <c>Multispike</c> neuron, one value at a time: the count
/// <c>floor(clamp(4x, 0, 4) + 0.5)</c> in 0..<see cref="MaxCount"/>, computed in float32 as PyTorch computes it
/// (the sum with 0.5 rounded to float before the floor, and ties <c>4x = k + ½</c> going up), and the window
/// <c>0 &lt; 4x &lt; 4</c> where the neuron passes a gradient. This is the plain reference of the vector kernel
/// behind <see cref="Functional.Multispike"/>, and what an integer engine calls to turn a membrane into counts.
/// </summary>
public static class MultiLevelSpike
{
    /// <summary>The largest count, the official <c>lens</c> (and the clamp of its <c>relu4</c>).</summary>
    public const int MaxCount = 4;

    /// <summary>The factor applied to the input before counting (the official <c>4 * inputs</c>).</summary>
    public const float InputScale = 4f;

    /// <summary>
    /// The count of <paramref name="x"/>: <c>floor(clamp(4x, 0, 4) + 0.5)</c> as a float (NaN for NaN). Float32
    /// matters at the top of a half-step: for x = 0.125 − 2⁻²⁷, 4x + 0.5 rounds to 1 and the count is 1, as PyTorch gives.
    /// </summary>
    public static float Count(float x) => MathF.Floor(MathF.Min(MathF.Max(x * InputScale, 0f), MaxCount) + 0.5f);

    /// <summary>Whether the neuron passes a gradient at <paramref name="x"/>: <c>0 &lt; 4x &lt; 4</c>, i.e. <c>0 &lt; x &lt; 1</c> (false for NaN).</summary>
    public static bool InWindow(float x) => x > 0f && x < 1f;

    /// <summary>The counts of <paramref name="input"/> as bytes 0..4, for integer kernels fed by the neuron.</summary>
    /// <exception cref="ArgumentException">The lengths differ, or an input is NaN (it has no count).</exception>
    public static void Counts(ReadOnlySpan<float> input, Span<byte> counts)
    {
        if (counts.Length != input.Length)
        {
            throw new ArgumentException($"MultiLevelSpike.Counts: {counts.Length} counts for {input.Length} inputs; the lengths must match.", nameof(counts));
        }
        for (int i = 0; i < input.Length; i++)
        {
            float c = Count(input[i]);
            counts[i] = float.IsNaN(c)
                ? throw new ArgumentException($"MultiLevelSpike.Counts: input[{i}] is NaN, which has no spike count.", nameof(input))
                : (byte)c;
        }
    }
}
