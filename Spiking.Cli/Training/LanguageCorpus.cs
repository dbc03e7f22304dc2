using System;
using Spiking.Layers.Data;

namespace Spiking.Cli.Training;

/// <summary>
/// The text of a language-model command: <c>--corpus kjv</c> (the default, the King James Bible from Debian's
/// <c>bible</c> program, as the reference script) or <c>--text FILE</c>, never both; its ids under a vocabulary and
/// the 90/5/5 split.
/// </summary>
internal static class LanguageCorpus
{
    /// <summary>Reads <c>--corpus</c> and <c>--text</c> (only which is meant; nothing is loaded).</summary>
    /// <exception cref="UsageException">Both are given, or <c>--corpus</c> names no corpus.</exception>
    public static string? TextOption(Options options)
    {
        string? corpus = options.String("corpus");
        string? text = options.String("text");
        if (corpus is not null && text is not null) throw new UsageException("give --corpus or --text, not both");
        if (corpus is not null && corpus != "kjv") throw new UsageException($"--corpus expects kjv, got '{corpus}'");
        return text;
    }

    /// <summary>
    /// Loads the text: the file, or the King James Bible (a text other than <c>bible-kjv</c> 4.38's is used with a
    /// warning, as the reference script does, since its figures are not comparable).
    /// </summary>
    public static TextCorpus Load(string? textFile, Options options)
    {
        if (textFile is not null) return TextCorpus.FromFile(textFile);
        var corpus = TextCorpus.FromKingJamesBible(requireReferenceText: false);
        if (corpus.Sha256 != TextCorpus.KingJamesSha256 || corpus.ByteCount != TextCorpus.KingJamesByteCount)
        {
            options.Warn($"the King James text differs from the reference ({TextCorpus.KingJamesByteCount} bytes, sha256 {TextCorpus.KingJamesSha256[..16]}...; " +
                $"got {corpus.ByteCount} bytes, sha256 {corpus.Sha256[..16]}...): another bible-kjv version? Bits per character are not comparable.");
        }
        return corpus;
    }

    /// <summary>The ids of <paramref name="corpus"/> under <paramref name="vocabulary"/>, cut 90/5/5, checked long enough for <paramref name="context"/>.</summary>
    /// <exception cref="InputException">A character is outside the vocabulary, or a part is too short.</exception>
    /// <summary>
    /// Loads the corpus, builds its vocabulary and splits it, keeping only what training and the report need: the
    /// text, its bytes and the whole id sequence (some 30 MB for KJV, more than the model and a step's activations
    /// together at the peer's sizes) are left behind, and the heap is compacted once before training starts, so the
    /// peak resident memory is that of the model, the splits and the steps.
    /// </summary>
    public static (CorpusInfo Corpus, CharVocabulary Vocabulary, TextSplits Splits) LoadForTraining(string? textFile, Options options, int context)
    {
        var corpus = Load(textFile, options);
        var vocabulary = CharVocabulary.FromText(corpus.Text);
        var splits = Split(corpus, vocabulary, context, training: true);
        var info = new CorpusInfo(corpus.Name, corpus.Sha256, corpus.CharacterCount);
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect();
        return (info, vocabulary, splits);
    }

    public static TextSplits Split(TextCorpus corpus, CharVocabulary vocabulary, int context, bool training)
    {
        int[] ids;
        try
        {
            ids = vocabulary.Encode(corpus.Text);
        }
        catch (ArgumentException e)
        {
            throw new InputException($"corpus '{corpus.Name}' does not fit the checkpoint's vocabulary: {e.Message}");
        }
        int n = ids.Length;
        long trainEnd = n * 90L / 100, validationEnd = n * 95L / 100;
        if (n < 20 || (training && trainEnd < (long)context + 2) || validationEnd - trainEnd < 2 || n - validationEnd < 2)
        {
            throw new InputException(
                $"corpus '{corpus.Name}' ({n} characters) is too short{(training ? $" for --context {context}: its first 90% must hold a window of {context} + 1 characters and one start to draw, and" : ":")} " +
                "its validation and test parts (5% each) at least 2 characters");
        }
        return new TextSplits(ids);
    }
}

/// <summary>What a report needs of a corpus once it is split: its name, the SHA-256 of its bytes and its length in characters.</summary>
internal sealed record CorpusInfo(string Name, string Sha256, int CharacterCount);
