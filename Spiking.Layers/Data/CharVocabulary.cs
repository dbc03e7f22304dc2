using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Spiking.Layers.Data;

/// <summary>
/// The characters of a character-level language model: the distinct Unicode scalar values of a text in code-point
/// order, the id of a character being its index, as the reference SpikeGPT script (<c>sorted(set(text))</c>) builds
/// it. Characters outside the BMP are one character (one id), not two UTF-16 surrogates.
/// </summary>
public sealed class CharVocabulary
{
    private readonly int[] _codePoints;

    private CharVocabulary(int[] codePoints) => _codePoints = codePoints;

    /// <summary>The number of characters (ids 0 to <c>Count - 1</c>).</summary>
    public int Count => _codePoints.Length;

    /// <summary>The character of id <paramref name="id"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="id"/> is not in [0, <see cref="Count"/>).</exception>
    public Rune this[int id]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(id);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(id, Count);
            return new Rune(_codePoints[id]);
        }
    }

    /// <summary>The vocabulary of <paramref name="text"/>: each distinct character once, in code-point order.</summary>
    /// <exception cref="ArgumentException">The text is empty or has an unpaired surrogate.</exception>
    public static CharVocabulary FromText(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty) throw new ArgumentException("A vocabulary needs a text with at least one character.", nameof(text));
        var seen = new HashSet<int>();
        for (int i = 0; i < text.Length;)
        {
            var rune = RuneAt(text, i, nameof(text));
            seen.Add(rune.Value);
            i += rune.Utf16SequenceLength;
        }
        int[] codePoints = [.. seen];
        Array.Sort(codePoints);
        return new CharVocabulary(codePoints);
    }

    /// <summary>
    /// The vocabulary whose <see cref="ToString"/> is <paramref name="vocabulary"/>: the form a checkpoint stores
    /// (the reference script's <c>vocab</c> metadata), each character once in increasing code-point order.
    /// </summary>
    /// <exception cref="FormatException">
    /// The string is empty, has an unpaired surrogate, or its characters are not strictly increasing.
    /// </exception>
    public static CharVocabulary Parse(string vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (vocabulary.Length == 0) throw new FormatException("A vocabulary string has at least one character.");
        var codePoints = new List<int>();
        for (int i = 0; i < vocabulary.Length;)
        {
            if (Rune.DecodeFromUtf16(vocabulary.AsSpan(i), out var rune, out int used) != System.Buffers.OperationStatus.Done)
            {
                throw new FormatException($"The vocabulary string has an unpaired surrogate U+{(int)vocabulary[i]:X4} at UTF-16 index {i}.");
            }
            if (codePoints.Count > 0 && rune.Value <= codePoints[^1])
            {
                throw new FormatException(
                    $"The vocabulary string is not in strictly increasing code-point order: {Describe(rune)} at UTF-16 index {i} follows " +
                    $"{Describe(new Rune(codePoints[^1]))}.");
            }
            codePoints.Add(rune.Value);
            i += used;
        }
        return new CharVocabulary([.. codePoints]);
    }

    /// <summary>The id of <paramref name="character"/>, or -1 when it is not in the vocabulary.</summary>
    public int IdOf(Rune character) => Math.Max(-1, Array.BinarySearch(_codePoints, character.Value));

    /// <summary>The ids of the characters of <paramref name="text"/>, one per character (a pair of surrogates is one).</summary>
    /// <exception cref="ArgumentException">A character is not in the vocabulary (the message names it and its position), or a surrogate is unpaired.</exception>
    public int[] Encode(ReadOnlySpan<char> text)
    {
        int count = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (!char.IsLowSurrogate(text[i])) count++;
        }
        var ids = new int[count];
        int written = 0;
        for (int i = 0; i < text.Length;)
        {
            var rune = RuneAt(text, i, nameof(text));
            int id = Array.BinarySearch(_codePoints, rune.Value);
            if (id < 0)
            {
                throw new ArgumentException(
                    $"The text has {Describe(rune)} at character {written} (UTF-16 index {i}), which is not in the vocabulary of {Count} characters.",
                    nameof(text));
            }
            ids[written++] = id;
            i += rune.Utf16SequenceLength;
        }
        return ids;
    }

    /// <summary>The text of the ids <paramref name="ids"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is not in [0, <see cref="Count"/>) (the message gives its position).</exception>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var text = new StringBuilder(ids.Length);
        for (int i = 0; i < ids.Length; i++)
        {
            if ((uint)ids[i] >= (uint)Count)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), ids[i], $"Id {ids[i]} at position {i} is not in [0, {Count}).");
            }
            text.Append(new Rune(_codePoints[ids[i]]));
        }
        return text.ToString();
    }

    /// <summary>The characters in id order, one string: what <see cref="Parse"/> reads and a checkpoint stores as <c>vocab</c>.</summary>
    public override string ToString()
    {
        var text = new StringBuilder(Count);
        foreach (int codePoint in _codePoints) text.Append(new Rune(codePoint));
        return text.ToString();
    }

    // The character starting at UTF-16 index i; an unpaired surrogate would otherwise be silently read as U+FFFD.
    private static Rune RuneAt(ReadOnlySpan<char> text, int i, string parameter)
    {
        if (Rune.DecodeFromUtf16(text[i..], out var rune, out _) != System.Buffers.OperationStatus.Done)
        {
            throw new ArgumentException($"The text has an unpaired surrogate U+{(int)text[i]:X4} at UTF-16 index {i}.", parameter);
        }
        return rune;
    }

    private static string Describe(Rune rune) =>
        Rune.IsControl(rune) || Rune.IsWhiteSpace(rune)
            ? string.Create(CultureInfo.InvariantCulture, $"U+{rune.Value:X4}")
            : string.Create(CultureInfo.InvariantCulture, $"'{rune}' (U+{rune.Value:X4})");
}
