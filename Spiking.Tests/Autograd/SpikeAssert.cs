using System;
using Spiking.Tensors;

namespace Spiking.Tests.Autograd;

/// <summary>Assertions on spike results: their bits read one at a time, and the zero padding every kernel must keep.</summary>
internal static class SpikeAssert
{
    /// <summary>The spikes as 0/1 floats in row-major order, read bit by bit (not through the engine's unpack kernel).</summary>
    public static float[] Bits(SpikeTensor s)
    {
        var words = s.Words;
        var values = new float[s.Length];
        for (int r = 0; r < s.RowCount; r++)
        {
            for (int c = 0; c < s.RowLength; c++) values[r * s.RowLength + c] = Reference.Bit(words, s.RowLength, r, c) ? 1f : 0f;
        }
        return values;
    }

    /// <summary>Asserts every bit past the last element of each row is zero.</summary>
    public static void PaddingIsZero(SpikeTensor s, string what)
    {
        int tail = s.RowLength & 63;
        if (tail == 0 || s.WordsPerRow == 0) return;
        ulong padding = ~((1UL << tail) - 1);
        var words = s.Words;
        for (int r = 0; r < s.RowCount; r++)
        {
            ulong last = words[r * s.WordsPerRow + s.WordsPerRow - 1];
            if ((last & padding) != 0)
            {
                throw new Xunit.Sdk.XunitException($"{what}: row {r} of {s.Shape} has padding bits set (last word 0x{last:X16}, row length {s.RowLength}).");
            }
        }
    }

    /// <summary>Asserts <paramref name="s"/> holds exactly the 0/1 values <paramref name="expected"/> and zero padding.</summary>
    public static void Equal(ReadOnlySpan<float> expected, SpikeTensor s, string what)
    {
        PaddingIsZero(s, what);
        Reference.AssertBitwise(expected, Bits(s), what);
    }

    /// <summary>Asserts the two arrays hold equal values, NaN matching NaN (+0 and -0 are equal).</summary>
    public static void SameValues(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        if (expected.Length != actual.Length) throw new Xunit.Sdk.XunitException($"{what}: expected {expected.Length} values, got {actual.Length}.");
        for (int i = 0; i < expected.Length; i++)
        {
            if (!(expected[i] == actual[i] || (float.IsNaN(expected[i]) && float.IsNaN(actual[i]))))
            {
                throw new Xunit.Sdk.XunitException($"{what}: element {i} is {actual[i]}, expected {expected[i]}.");
            }
        }
    }
}
