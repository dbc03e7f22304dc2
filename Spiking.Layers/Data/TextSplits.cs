using System;

namespace Spiking.Layers.Data;

/// <summary>
/// The token ids of a text cut by position, as the reference SpikeGPT script cuts it: of n tokens, the first
/// <c>n*90/100</c> train, those up to <c>n*95/100</c> validate, the rest test (integer division; for the King James
/// Bible 3 724 065 / 206 892 / 206 893).
/// </summary>
public sealed class TextSplits
{
    /// <summary>Splits <paramref name="tokens"/>; the three parts are copies.</summary>
    /// <exception cref="ArgumentException">There are fewer than 20 tokens, so a part would be empty.</exception>
    public TextSplits(ReadOnlySpan<int> tokens)
    {
        if (tokens.Length < 20)
        {
            throw new ArgumentException($"{tokens.Length} tokens are too few to split 90/5/5 with every part non-empty (at least 20).", nameof(tokens));
        }
        // In 64 bits: n*95 overflows an int from n = 22.6 million tokens on.
        TrainEnd = (int)(tokens.Length * 90L / 100);
        ValidationEnd = (int)(tokens.Length * 95L / 100);
        Train = tokens[..TrainEnd].ToArray();
        Validation = tokens[TrainEnd..ValidationEnd].ToArray();
        Test = tokens[ValidationEnd..].ToArray();
    }

    /// <summary>Where validation starts: <c>n*90/100</c>.</summary>
    public int TrainEnd { get; }

    /// <summary>Where test starts: <c>n*95/100</c>.</summary>
    public int ValidationEnd { get; }

    /// <summary>The first 90%: what <see cref="TextWindows"/> draws training windows from.</summary>
    public int[] Train { get; }

    /// <summary>The next 5%.</summary>
    public int[] Validation { get; }

    /// <summary>The last 5% and the remainder of the rounding.</summary>
    public int[] Test { get; }
}
