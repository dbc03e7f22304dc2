using System;
using Spiking.Tensors;

namespace Spiking.Autograd;

/// <summary>
/// The <c>[N, H, L, D]</c> layout of the spike-driven attention ops (batch, heads, tokens, channels per head), and the
/// argument checks they share, with messages that name both shapes when operands disagree.
/// </summary>
internal readonly record struct HeadShape(int Batch, int Heads, int Tokens, int Channels)
{
    /// <summary>The number of (batch, head) pairs: the work items of every op.</summary>
    public int Count => Batch * Heads;

    /// <summary>The layout of <paramref name="v"/>, which must be rank 4.</summary>
    /// <exception cref="ArgumentException"><paramref name="v"/> is not <c>[N, H, L, D]</c>.</exception>
    public static HeadShape Of(Variable v, string paramName, string op)
    {
        ArgumentNullException.ThrowIfNull(v, paramName);
        var s = v.Shape;
        if (s.Rank != 4)
        {
            throw new ArgumentException($"{op} needs '{paramName}' of shape [N, H, L, D] (batch, heads, tokens, channels); it has shape {s}.", paramName);
        }
        return new HeadShape(s[0], s[1], s[2], s[3]);
    }

    /// <summary>Throws unless <paramref name="other"/> has the same shape as <paramref name="first"/>.</summary>
    public static void Same(Variable first, string firstName, Variable other, string otherName, string op)
    {
        if (other.Shape != first.Shape)
        {
            throw new ArgumentException(
                $"{op}: '{otherName}' has shape {other.Shape} but '{firstName}' has shape {first.Shape}; they must be equal.", otherName);
        }
    }

    /// <summary>Throws unless every operand is spikes or every operand is dense.</summary>
    public static void SameKind(string op, params ReadOnlySpan<(Variable Value, string Name)> operands)
    {
        for (int i = 1; i < operands.Length; i++)
        {
            if (operands[i].Value.IsSpikes != operands[0].Value.IsSpikes)
            {
                throw new ArgumentException(
                    $"{op} needs all operands as spikes (the exact bit path) or all dense (the float path); '{operands[0].Name}' {Kind(operands[0].Value)} " +
                    $"but '{operands[i].Name}' {Kind(operands[i].Value)}. Convert explicitly with Functional.SpikesToDense.",
                    operands[i].Name);
            }
        }
    }

    private static string Kind(Variable v) => v.IsSpikes ? $"holds spikes of shape {v.Shape}" : $"is dense of shape {v.Shape}";

    /// <summary>The shape <c>[N, H, rows, D]</c>.</summary>
    public Shape With(int rows) => new(Batch, Heads, rows, Channels);
}
