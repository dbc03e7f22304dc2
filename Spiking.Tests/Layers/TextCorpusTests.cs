using System;
using System.IO;
using System.Linq;
using System.Text;
using FsCheck.Xunit;
using Spiking.Layers.Data;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Layers;

/// <summary>
/// The character-LM corpus, vocabulary, split and window sampler against the reference SpikeGPT script's figures
/// (../shared/peers/README.md, torch_spikegpt.py: size, sha256, vocabulary, split sizes of the King James text) and
/// against values worked out here from the definitions.
/// </summary>
public sealed class TextCorpusTests
{
    // The README's figures for `bible -f Gen1:1-Rev22:21 | sed -E 's/^[1-3]?[A-Za-z]+[0-9]+:[0-9]+ //'` (bible-kjv 4.38).
    private const string ReadmeSha256 = "b5c4940bcfeee072c0935b5200d0f9d88a00a0199cb0961d16133458fcdfae5d";
    private const int ReadmeBytes = 4_137_850;
    private const int ReadmeLines = 31_102;

    // sorted(set(text)) of that text, printed by Python.
    private const string ReadmeVocabulary = "\n !'(),-.:;?ABCDEFGHIJKLMNOPQRSTUVWYZabcdefghijklmnopqrstuvwxyz";

    private static readonly Lazy<TextCorpus> Kjv = new(() => TextCorpus.FromKingJamesBible());

    // Skips only where the package is absent; where `bible` is there, every failure to produce the text fails.
    private static TextCorpus KingJames()
    {
        bool installed = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, "bible")));
        if (!installed) Assert.Skip("The `bible` program of Debian's bible-kjv is not installed (apt-get install -y bible-kjv); .ci/run installs it.");
        return Kjv.Value;
    }

    // A shell script that stands in for `bible`, to run what the real text never shows.
    private static string Script(TempFolder dir, string name, string body)
    {
        string program = Path.Combine(dir.Path, name);
        File.WriteAllText(program, "#!/bin/sh\n" + body);
        if (OperatingSystem.IsWindows()) Assert.Skip("A shell script stands in for the bible program only on Unix.");
        else File.SetUnixFileMode(program, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return program;
    }

    [Fact]
    public void King_james_text_is_the_readme_bytes()
    {
        var corpus = KingJames();
        Assert.Equal(ReadmeBytes, corpus.ByteCount);
        Assert.Equal(ReadmeSha256, corpus.Sha256);
        Assert.Equal(ReadmeSha256, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(corpus.Bytes)));
        Assert.Equal("kjv", corpus.Name);
        Assert.Equal(ReadmeLines, corpus.Bytes.Count((byte)'\n'));
        Assert.Equal((byte)'\n', corpus.Bytes[^1]);
        Assert.StartsWith("In the beginning God created the heaven and the earth.\nAnd the earth was without form", corpus.Text, StringComparison.Ordinal);
        Assert.EndsWith("The grace of our Lord Jesus Christ be with you all. Amen.\n", corpus.Text, StringComparison.Ordinal);
        Assert.Equal(corpus.Text, Encoding.UTF8.GetString(corpus.Bytes));
        Assert.Equal(ReadmeBytes, corpus.CharacterCount); // all ASCII
    }

    [Fact]
    public void King_james_vocabulary_and_split_are_the_readme_ones()
    {
        var corpus = KingJames();
        var vocabulary = CharVocabulary.FromText(corpus.Text);
        Assert.Equal(63, vocabulary.Count);
        Assert.Equal(ReadmeVocabulary, vocabulary.ToString());

        int[] tokens = vocabulary.Encode(corpus.Text);
        Assert.Equal(corpus.CharacterCount, tokens.Length);
        Assert.Equal(corpus.Text, vocabulary.Decode(tokens));
        // 'I' is id 20: after \n, space, ten punctuation marks and A..H.
        Assert.Equal(20, tokens[0]);
        Assert.Equal(ReadmeVocabulary.IndexOf(corpus.Text[12345], StringComparison.Ordinal), tokens[12345]);

        var splits = new TextSplits(tokens);
        Assert.Equal(3_724_065, splits.Train.Length);
        Assert.Equal(206_892, splits.Validation.Length);
        Assert.Equal(206_893, splits.Test.Length);
        Assert.Equal(3_724_065, splits.TrainEnd);
        Assert.Equal(3_724_065 + 206_892, splits.ValidationEnd);
        Assert.Equal(tokens, splits.Train.Concat(splits.Validation).Concat(splits.Test));

        var windows = new TextWindows(splits.Train, 128, seed: 0);
        var ids = new int[16 * 129];
        var starts = new int[16];
        windows.Next(ids, starts);
        for (int i = 0; i < 16; i++)
        {
            Assert.InRange(starts[i], 0, 3_724_065 - 129 - 1);
            Assert.Equal(corpus.Text.Substring(starts[i], 129), vocabulary.Decode(ids.AsSpan(129 * i, 129)));
        }
    }

    [Fact]
    public void Verse_references_are_removed_at_line_starts_only_and_line_feeds_are_kept()
    {
        using var dir = new TempFolder();
        // Prefixes of every shape the pattern takes (book with a leading digit, multi-digit chapter and verse), and
        // look-alikes it must leave: one not at a line start, ones without the space, a book number of 4, no book.
        string program = Script(dir, "fake-bible",
            "printf 'Ge1:1 In the beginning\\n1Co13:4 Charity suffereth long, Ge1:2 stays\\nRev22:21 The grace\\n" +
            "Ps119:176 I have gone\\n4Ki1:1 no\\nGe1:1x\\n:1 \\nJoh3:16\\n'\n");

        var corpus = TextCorpus.FromKingJamesBible(program, requireReferenceText: false);

        const string Expected = "In the beginning\nCharity suffereth long, Ge1:2 stays\nThe grace\nI have gone\n4Ki1:1 no\nGe1:1x\n:1 \nJoh3:16\n";
        Assert.Equal(Expected, corpus.Text);
        Assert.Equal(Encoding.ASCII.GetBytes(Expected), corpus.Bytes.ToArray());
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.ASCII.GetBytes(Expected))), corpus.Sha256);

        // The same text is refused when the reference text is required: it is not bible-kjv 4.38's.
        var e = Assert.Throws<InvalidDataException>(() => TextCorpus.FromKingJamesBible(program, requireReferenceText: true));
        Assert.Contains(corpus.Sha256, e.Message, StringComparison.Ordinal);
        Assert.Contains(ReadmeSha256, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_bible_program_says_how_to_install_it()
    {
        var e = Assert.Throws<FileNotFoundException>(() => TextCorpus.FromKingJamesBible("spiking-test-no-such-bible-program", requireReferenceText: true));
        Assert.Contains("apt-get install -y bible-kjv", e.Message, StringComparison.Ordinal);
        Assert.Equal(TextCorpus.KingJamesInstallHint, "apt-get install -y bible-kjv");
    }

    [Fact]
    public void A_failing_bible_program_reports_its_exit_code_and_error()
    {
        using var dir = new TempFolder();
        string program = Script(dir, "broken-bible", "echo \"no such book: $2\" >&2\nexit 3\n");
        var e = Assert.Throws<InvalidOperationException>(() => TextCorpus.FromKingJamesBible(program, requireReferenceText: false));
        Assert.Contains("exit code 3", e.Message, StringComparison.Ordinal);
        Assert.Contains("no such book: Gen1:1-Rev22:21", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { (byte)'a', (byte)'b', (byte)'c', 0xC3, (byte)'(' }, 3)] // a lead byte without its continuation
    [InlineData(new byte[] { (byte)'a', (byte)'b', 0xFF, (byte)'c' }, 2)] // never valid in UTF-8
    [InlineData(new byte[] { 0xE2, 0x82, 0xAC, (byte)'x', 0xE2, 0x82 }, 4)] // '€', then a character cut off at the end
    [InlineData(new byte[] { (byte)'x', 0xED, 0xA0, 0x80 }, 1)] // an encoded surrogate (CESU), which Python refuses too
    [InlineData(new byte[] { 0xC0, 0xAF }, 0)] // an overlong '/'
    public void Invalid_utf8_names_the_file_and_the_offset(byte[] bytes, int offset)
    {
        using var dir = new TempFolder();
        string path = Path.Combine(dir.Path, "bad.txt");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => TextCorpus.FromFile(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains($"offset {offset} ", e.Message, StringComparison.Ordinal);
        Assert.Throws<DecoderFallbackException>(() => new UTF8Encoding(false, true).GetString(bytes)); // the reference agrees it is invalid
    }

    [Fact]
    public void An_empty_or_missing_file_is_refused()
    {
        using var dir = new TempFolder();
        string path = Path.Combine(dir.Path, "empty.txt");
        File.WriteAllBytes(path, []);
        Assert.Contains(path, Assert.Throws<InvalidDataException>(() => TextCorpus.FromFile(path)).Message, StringComparison.Ordinal);
        Assert.Throws<FileNotFoundException>(() => TextCorpus.FromFile(Path.Combine(dir.Path, "absent.txt")));
    }

    [Fact]
    public void A_file_with_characters_outside_the_bmp_reads_and_round_trips()
    {
        using var dir = new TempFolder();
        string path = Path.Combine(dir.Path, "emoji.txt");
        // BOM, 'a', U+1F600 (F0 9F 98 80), 'é' (C3 A9), U+10348 (F0 90 8D 88), 'a', line feed.
        byte[] bytes = [0xEF, 0xBB, 0xBF, 0x61, 0xF0, 0x9F, 0x98, 0x80, 0xC3, 0xA9, 0xF0, 0x90, 0x8D, 0x88, 0x61, 0x0A];
        File.WriteAllBytes(path, bytes);

        var corpus = TextCorpus.FromFile(path);
        Assert.Equal("emoji.txt", corpus.Name);
        Assert.Equal(bytes, corpus.Bytes.ToArray());
        Assert.Equal("\uFEFFa\U0001F600\u00E9\U00010348a\n", corpus.Text);
        Assert.Equal(7, corpus.CharacterCount);
        Assert.Equal(9, corpus.Text.Length);

        var vocabulary = CharVocabulary.FromText(corpus.Text);
        // Code-point order: \n (0x0A), a (0x61), é (0xE9), BOM (0xFEFF), U+10348, U+1F600; a surrogate-ordered
        // (UTF-16 code unit) sort would put both astral characters before the BOM.
        Assert.Equal("\na\u00E9\uFEFF\U00010348\U0001F600", vocabulary.ToString());
        Assert.Equal([3, 1, 5, 2, 4, 1, 0], vocabulary.Encode(corpus.Text));
        Assert.Equal(corpus.Text, vocabulary.Decode([3, 1, 5, 2, 4, 1, 0]));
        Assert.Equal(new Rune(0x1F600), vocabulary[5]);
        Assert.Equal(4, vocabulary.IdOf(new Rune(0x10348)));
        Assert.Equal(vocabulary.ToString(), CharVocabulary.Parse(vocabulary.ToString()).ToString());
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 300)]
    public void Encode_and_decode_round_trip_with_ids_in_code_point_order(UnicodeTextCase text)
    {
        // The reference ids: the rank of each code point among the distinct ones, worked out from the code points.
        int[] distinct = text.CodePoints.Distinct().Order().ToArray();
        int[] expected = text.CodePoints.Select(c => Array.IndexOf(distinct, c)).ToArray();

        var vocabulary = CharVocabulary.FromText(text.Text);
        Assert.Equal(distinct.Length, vocabulary.Count);
        Assert.Equal(expected, vocabulary.Encode(text.Text));
        Assert.Equal(text.Text, vocabulary.Decode(expected));
        Assert.Equal(string.Concat(distinct.Select(c => new Rune(c).ToString())), vocabulary.ToString());

        var parsed = CharVocabulary.Parse(vocabulary.ToString());
        Assert.Equal(expected, parsed.Encode(text.Text));
    }

    [Fact]
    public void Encoding_an_unknown_character_names_it()
    {
        var vocabulary = CharVocabulary.FromText("abc\n");
        var e = Assert.Throws<ArgumentException>(() => vocabulary.Encode("cab\nz"));
        Assert.Contains("'z' (U+007A)", e.Message, StringComparison.Ordinal);
        Assert.Contains("character 4", e.Message, StringComparison.Ordinal);
        var astral = Assert.Throws<ArgumentException>(() => vocabulary.Encode("a\U0001F600"));
        Assert.Contains("U+1F600", astral.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => vocabulary.Encode("a\uD83D")); // an unpaired high surrogate
        Assert.Throws<ArgumentException>(() => CharVocabulary.FromText("a\uDE00b")); // an unpaired low surrogate
        Assert.Equal(-1, vocabulary.IdOf(new Rune('z')));
        Assert.Throws<ArgumentOutOfRangeException>(() => vocabulary.Decode([0, 4]));
        Assert.Throws<ArgumentOutOfRangeException>(() => vocabulary.Decode([-1]));
    }

    [Theory]
    [InlineData("")]
    [InlineData("ba")] // decreasing
    [InlineData("abb")] // a duplicate
    [InlineData("a\uD800")] // an unpaired surrogate
    [InlineData("\U0001F600\uFEFF")] // UTF-16 order, not code-point order
    public void Parse_refuses_what_no_vocabulary_prints(string text) =>
        Assert.Throws<FormatException>(() => CharVocabulary.Parse(text));

    [Theory]
    [InlineData(20, 18, 1, 1)]
    [InlineData(100, 90, 5, 5)]
    [InlineData(4_137_850, 3_724_065, 206_892, 206_893)]
    [InlineData(22_700_001, 20_430_000, 1_135_000, 1_135_001)] // n*95 overflows 32 bits
    public void Splits_cut_at_n_90_and_95_percent_with_floor_division(int n, int train, int validation, int test)
    {
        var tokens = Enumerable.Range(0, n).ToArray();
        var splits = new TextSplits(tokens);
        Assert.Equal(train, splits.Train.Length);
        Assert.Equal(validation, splits.Validation.Length);
        Assert.Equal(test, splits.Test.Length);
        Assert.Equal(0, splits.Train[0]);
        Assert.Equal(train, splits.Validation[0]);
        Assert.Equal(train + validation, splits.Test[0]);
        Assert.Equal(n - 1, splits.Test[^1]);
    }

    [Fact]
    public void Too_few_tokens_for_a_split_or_a_window_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new TextSplits(new int[19]));
        Assert.Throws<ArgumentException>(() => new TextWindows(new int[9], context: 8, seed: 0));
        var windows = new TextWindows(new int[10], context: 8, seed: 0);
        Assert.Equal(1, windows.StartCount);
        Assert.Throws<ArgumentException>(() => windows.Next(new int[18], new int[1]));
        Assert.Throws<ArgumentException>(() => windows.Next([], []));
    }

    /// <summary>The starts written out from the documented draw: word pairs of Philox4x32-10 blocks, key = seed, counter = (block, "TEXT" stream), times m over 2^64.</summary>
    internal static int[] ReferenceStarts(ulong seed, ulong firstBlock, int count, int startCount)
    {
        var starts = new int[count];
        for (int k = 0; k < count; k++)
        {
            ulong block = firstBlock + (ulong)(k / 2);
            var words = Philox4x32.Generate((uint)block, (uint)(block >> 32), 0x5445_5854, 0, (uint)seed, (uint)(seed >> 32));
            ulong r = k % 2 == 0 ? words.X0 | ((ulong)words.X1 << 32) : words.X2 | ((ulong)words.X3 << 32);
            starts[k] = (int)((UInt128)r * (ulong)startCount >> 64);
        }
        return starts;
    }

    [Fact]
    public void Windows_are_the_documented_draws_deterministic_and_resumable()
    {
        // Token i is 7i+3, so a window's contents tell where it starts.
        int[] tokens = Enumerable.Range(0, 1000).Select(i => 7 * i + 3).ToArray();
        const int Context = 16;
        var windows = new TextWindows(tokens, Context, seed: 42);
        Assert.Equal(1000 - Context - 1, windows.StartCount);

        var ids = new int[5 * (Context + 1)];
        var first = new int[5];
        windows.Next(ids, first);
        Assert.Equal(ReferenceStarts(42, 0, 5, 983), first);
        Assert.Equal(3UL, windows.Offset); // five draws take three blocks
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(Enumerable.Range(first[i], Context + 1).Select(t => 7 * t + 3), ids.AsSpan(i * (Context + 1), Context + 1).ToArray());
        }

        var second = new int[4];
        windows.Next(new int[4 * (Context + 1)], second);
        Assert.Equal(ReferenceStarts(42, 3, 4, 983), second);

        // A new sampler of the same seed replays both batches; one resumed at the saved offset replays the second.
        var replay = new TextWindows(tokens, Context, seed: 42);
        var again = new int[5];
        replay.Next(new int[5 * (Context + 1)], again);
        Assert.Equal(first, again);
        var resumed = new TextWindows(tokens, Context, seed: 42) { Offset = 3 };
        var secondAgain = new int[4];
        resumed.Next(new int[4 * (Context + 1)], secondAgain);
        Assert.Equal(second, secondAgain);

        var other = new int[5];
        new TextWindows(tokens, Context, seed: 43).Next(new int[5 * (Context + 1)], other);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void Starts_are_uniform_over_every_allowed_start_and_never_past_the_last()
    {
        // n = ctx + 6 leaves 5 starts, 0..4: the last allowed one must occur, start 5 (whose target would run
        // one past the end in the official Dataset's half-open range) must not.
        const int Context = 3, Draws = 20_000;
        var windows = new TextWindows(Enumerable.Range(0, Context + 6).ToArray(), Context, seed: 7);
        var starts = new int[Draws];
        windows.Next(new int[Draws * (Context + 1)], starts);
        var counts = new int[6];
        foreach (int s in starts) counts[s]++;
        Assert.Equal(0, counts[5]);
        // Chi-square with 4 degrees of freedom: above 18.47 with probability 0.001 for uniform starts.
        double expected = Draws / 5.0;
        double chi2 = counts.Take(5).Sum(c => (c - expected) * (c - expected) / expected);
        Assert.True(chi2 < 18.47, $"start counts {string.Join(", ", counts)} are not uniform (chi-square {chi2:F2})");
    }
}
