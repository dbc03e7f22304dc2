using System;
using System.Buffers;
using System.ComponentModel;
using System.Diagnostics;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using System.Text.Unicode;
using Spiking.Layers.IO;

namespace Spiking.Layers.Data;

/// <summary>
/// The text a character-level language model trains on: its UTF-8 bytes, the decoded text and the bytes' SHA-256.
/// <see cref="FromKingJamesBible(bool)"/> produces the King James Bible exactly as the reference SpikeGPT script
/// (<c>torch_spikegpt.py</c>) does, so bits-per-character figures of the two engines are over the same characters.
/// </summary>
public sealed partial class TextCorpus
{
    /// <summary>The SHA-256 (lowercase hex) of the King James Bible text of Debian's <c>bible-kjv</c> 4.38, verse references removed.</summary>
    public const string KingJamesSha256 = "b5c4940bcfeee072c0935b5200d0f9d88a00a0199cb0961d16133458fcdfae5d";

    /// <summary>The size in bytes of that text.</summary>
    public const int KingJamesByteCount = 4_137_850;

    /// <summary>The command that installs the <c>bible</c> program and its text.</summary>
    public const string KingJamesInstallHint = "apt-get install -y bible-kjv";

    // `-f` turns pretty-printing off, so every verse is one line "Ge1:1 In the beginning ..." whatever COLUMNS says.
    private static readonly string[] BibleArguments = ["-f", "Gen1:1-Rev22:21"];

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly byte[] _bytes;

    private TextCorpus(string name, byte[] bytes, string text)
    {
        Name = name;
        _bytes = bytes;
        Text = text;
        Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        int characters = 0;
        foreach (var _ in text.EnumerateRunes()) characters++;
        CharacterCount = characters;
    }

    /// <summary>The corpus' name: <c>kjv</c>, or the file name without its folder.</summary>
    public string Name { get; }

    /// <summary>The text.</summary>
    public string Text { get; }

    /// <summary>The UTF-8 bytes the text was decoded from.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>The number of bytes.</summary>
    public int ByteCount => _bytes.Length;

    /// <summary>
    /// The number of characters (Unicode scalar values, as Python counts them), which is the number of tokens a
    /// <see cref="CharVocabulary"/> gives; more than <c>Text.Length</c> can count when the text has characters outside the BMP.
    /// </summary>
    public int CharacterCount { get; }

    /// <summary>The SHA-256 of <see cref="Bytes"/>, lowercase hex.</summary>
    public string Sha256 { get; }

    /// <summary>
    /// Runs <c>bible -f Gen1:1-Rev22:21</c> (Debian's <c>bible-kjv</c>) and removes the verse reference at the start of
    /// every line, as <c>sed -E 's/^[1-3]?[A-Za-z]+[0-9]+:[0-9]+ //'</c> does: one verse per line, each line ending in
    /// a line feed.
    /// </summary>
    /// <param name="requireReferenceText">
    /// When true (the default), a text other than <c>bible-kjv</c> 4.38's (<see cref="KingJamesByteCount"/> bytes,
    /// SHA-256 <see cref="KingJamesSha256"/>) is refused, since bits per character over it are not comparable with the
    /// reference figures; false accepts it, and <see cref="Sha256"/> tells which text it was.
    /// </param>
    /// <exception cref="FileNotFoundException">
    /// The <c>bible</c> program is not installed or cannot be started; the message says <see cref="KingJamesInstallHint"/>.
    /// </exception>
    /// <exception cref="InvalidOperationException">The program failed (its standard error is in the message).</exception>
    /// <exception cref="InvalidDataException">
    /// The output is not UTF-8, or <paramref name="requireReferenceText"/> is set and the text is not the reference one.
    /// </exception>
    public static TextCorpus FromKingJamesBible(bool requireReferenceText = true) => FromKingJamesBible("bible", requireReferenceText);

    /// <summary><see cref="FromKingJamesBible(bool)"/> with another program in place of <c>bible</c>, so tests can run a missing one.</summary>
    internal static TextCorpus FromKingJamesBible(string program, bool requireReferenceText)
    {
        string command = program + " " + string.Join(' ', BibleArguments);
        byte[] output = Run(program, command);
        string raw = Decode(output, command);
        string text = VerseReference().Replace(raw, "");
        var corpus = new TextCorpus("kjv", StrictUtf8.GetBytes(text), text);
        if (requireReferenceText && (corpus.ByteCount != KingJamesByteCount || corpus.Sha256 != KingJamesSha256))
        {
            throw new InvalidDataException(
                $"'{command}' with verse references removed gave {corpus.ByteCount} bytes, sha256 {corpus.Sha256}, not the King James text of " +
                $"bible-kjv 4.38 ({KingJamesByteCount} bytes, sha256 {KingJamesSha256}): another bible-kjv version? Bits per character over it " +
                "are not comparable with the reference figures; pass requireReferenceText: false to use it anyway.");
        }
        return corpus;
    }

    /// <summary>Reads a UTF-8 text file whole. A byte-order mark is kept as the character U+FEFF, as Python's <c>utf-8</c> codec does.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="FileNotFoundException">Nothing exists at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">
    /// The file is empty, not a regular file, or not valid UTF-8 (the message names the file and the offset of the
    /// first invalid byte).
    /// </exception>
    public static TextCorpus FromFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes = InputFile.ReadAllBytes(path, Array.MaxLength, "text file");
        return new TextCorpus(Path.GetFileName(path), bytes, Decode(bytes, $"text file '{path}'"));
    }

    // The peer applies its pattern to the output bytes with re.M; on the decoded text it matches the same places,
    // because the pattern is ASCII and no byte of a multi-byte UTF-8 character is, and Multiline's ^ is, as Python's,
    // the start and every position after a line feed.
    [GeneratedRegex("^[1-3]?[A-Za-z]+[0-9]+:[0-9]+ ", RegexOptions.Multiline | RegexOptions.CultureInvariant)]
    private static partial Regex VerseReference();

    private static byte[] Run(string program, string command)
    {
        var start = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in BibleArguments) start.ArgumentList.Add(argument);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"'{command}' did not start.");
        }
        catch (Win32Exception e)
        {
            throw new FileNotFoundException(
                $"The '{program}' program, which prints the King James Bible, could not be started ({e.Message}): install it with '{KingJamesInstallHint}'.",
                program, e);
        }
        using (process)
        {
            // Nothing to read: the peer gives the program an empty standard input too.
            process.StandardInput.Close();
            // Standard error is drained at the same time, so a program that writes much there cannot block on a full pipe.
            var errors = process.StandardError.ReadToEndAsync();
            using var output = new MemoryStream();
            process.StandardOutput.BaseStream.CopyTo(output);
            process.WaitForExit();
            string error = errors.GetAwaiter().GetResult().Trim();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"'{command}' failed with exit code {process.ExitCode}: {(error.Length == 0 ? "(no message)" : error)}");
            }
            return output.ToArray();
        }
    }

    private static string Decode(byte[] bytes, string source)
    {
        if (bytes.Length == 0) throw new InvalidDataException($"{source} gave no text.");
        char[] chars = ArrayPool<char>.Shared.Rent(bytes.Length);
        try
        {
            // UTF-16 never needs more code units than UTF-8 has bytes, so one pass decodes or finds the first bad byte.
            var status = Utf8.ToUtf16(bytes, chars, out int read, out int written, replaceInvalidSequences: false);
            if (status != OperationStatus.Done)
            {
                throw new InvalidDataException(
                    $"{source} is not valid UTF-8: the bytes at byte offset {read} (0x{bytes[read]:x2}{(read + 1 < bytes.Length ? $" 0x{bytes[read + 1]:x2}" : "")}...) " +
                    "are not a UTF-8 character.");
            }
            return new string(chars, 0, written);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }
}
