using System;
using Spiking.Autograd;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// PyTorch's <c>nn.Embedding</c>: a table <c>weight [V, C]</c> whose rows stand for the tokens, initialised from
/// <c>N(0, 1)</c> as PyTorch's. Token ids come as integers with their shape (<see cref="Forward(ReadOnlySpan{int}, Shape)"/>),
/// or as a dense tensor of whole numbers, so the layer can open a <see cref="Sequential"/>.
/// </summary>
public sealed class Embedding : Module
{
    /// <summary>A table of <paramref name="vocabulary"/> rows of <paramref name="channels"/> values.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    public Embedding(int vocabulary, int channels, PhiloxGenerator? generator = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabulary);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        (Vocabulary, Channels) = (vocabulary, channels);
        Weight = RegisterParameter("weight", Tensor.Empty(vocabulary, channels));
        (generator ?? ModelSeed.Shared).FillNormal(Weight.Value);
    }

    /// <summary>Rows of the table, V.</summary>
    public int Vocabulary { get; }

    /// <summary>Values per row, C.</summary>
    public int Channels { get; }

    /// <summary>The table <c>[V, C]</c>.</summary>
    public Parameter Weight { get; }

    /// <summary>The rows of <paramref name="tokens"/>, laid out as <paramref name="shape"/> (such as <c>[B, T]</c>): <c>[..shape, C]</c>.</summary>
    /// <exception cref="ArgumentException">The token count is not the element count of <paramref name="shape"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A token is outside <c>[0, V)</c>.</exception>
    public Variable Forward(ReadOnlySpan<int> tokens, Shape shape) => Functional.Embedding(Weight, tokens, shape);

    /// <summary>The rows of the token ids held as whole numbers in <paramref name="input"/>: <c>[..input, C]</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="input"/> holds spikes, or a value that is not a whole number.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A token is outside <c>[0, V)</c>.</exception>
    public override Variable Forward(Variable input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var values = input.Tensor?.ToArray() ?? throw new ArgumentException(
            $"Embedding takes token ids as whole numbers in a dense tensor; 'input' holds spikes of shape {input.Shape}.", nameof(input));
        var tokens = new int[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            float v = values[i];
            // Out-of-range whole numbers pass on as such (clamped into int) so the op reports them against V.
            if (v != MathF.Floor(v))
            {
                throw new ArgumentException($"Embedding: input[{i}] is {v}, not a whole number; token ids of 'input' (shape {input.Shape}) must be integers.", nameof(input));
            }
            tokens[i] = (int)Math.Clamp(v, int.MinValue, int.MaxValue);
        }
        return Functional.Embedding(Weight, tokens, input.Shape);
    }
}
