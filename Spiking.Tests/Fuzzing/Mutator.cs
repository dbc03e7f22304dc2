using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Spiking.Tests.Fuzzing;

/// <summary>
/// Byte-level mutations of a structured fuzzer: bit flips, interesting byte values, integer fields set to
/// boundaries, truncation, extension, and chunk deletion, duplication and splicing with another seed.
/// </summary>
internal static class Mutator
{
    private static readonly byte[] s_interestingBytes = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0x20, 0x22, 0x2C, 0x2D, 0x30, 0x5B, 0x5D, 0x7B, 0x7D, 0x1F, 0x8B];

    private static readonly long[] s_interestingIntegers =
    [
        0, 1, 2, 3, 4, 7, 8, 16, 255, 256, 1023, 1024, 4096, 32767, 32768, 65535, 65536,
        int.MaxValue, (long)int.MaxValue + 1, uint.MaxValue, (long)uint.MaxValue + 1, long.MaxValue, -1, -2, int.MinValue, long.MinValue,
        100_000_000, 100_000_001, 0x7FFFFFC7,
    ];

    /// <summary>Applies one byte-level mutation; <paramref name="others"/> are the seeds to splice with.</summary>
    public static byte[] Mutate(byte[] input, Random rng, IReadOnlyList<byte[]> others)
    {
        if (input.Length == 0) return RandomBytes(rng, 1 + rng.Next(16));
        int at = rng.Next(input.Length);
        switch (rng.Next(11))
        {
            case 0:
            {
                var r = (byte[])input.Clone();
                r[at] ^= (byte)(1 << rng.Next(8));
                return r;
            }
            case 1:
            {
                var r = (byte[])input.Clone();
                r[at] = s_interestingBytes[rng.Next(s_interestingBytes.Length)];
                return r;
            }
            case 2:
                return SetInteger(input, at, rng);
            case 3:
                return input[..at];
            case 4:
                return [.. input, .. Extension(input, rng)];
            case 5:
            {
                int length = ChunkLength(rng, input.Length - at);
                return [.. input.AsSpan(0, at), .. input.AsSpan(at + length)];
            }
            case 6:
            {
                int length = ChunkLength(rng, input.Length - at);
                int to = rng.Next(input.Length + 1);
                return [.. input.AsSpan(0, to), .. input.AsSpan(at, length), .. input.AsSpan(to)];
            }
            case 7:
            {
                var other = others[rng.Next(others.Count)];
                int from = other.Length == 0 ? 0 : rng.Next(other.Length);
                return [.. input.AsSpan(0, at), .. other.AsSpan(from)];
            }
            case 8:
                return [.. input.AsSpan(0, at), .. RandomBytes(rng, 1 + rng.Next(8)), .. input.AsSpan(at)];
            case 9:
            {
                var r = (byte[])input.Clone();
                int length = ChunkLength(rng, input.Length - at);
                rng.NextBytes(r.AsSpan(at, length));
                return r;
            }
            default:
            {
                // Overwrite a chunk with a copy of another chunk (keeps the length, moves structure around).
                var r = (byte[])input.Clone();
                int from = rng.Next(input.Length);
                int length = Math.Min(ChunkLength(rng, input.Length - from), input.Length - at);
                input.AsSpan(from, length).CopyTo(r.AsSpan(at));
                return r;
            }
        }
    }

    /// <summary>An integer field of 1, 2, 4 or 8 bytes, either endianness, set to a boundary or nudged by ±1.</summary>
    public static byte[] SetInteger(byte[] input, int at, Random rng)
    {
        int width = 1 << rng.Next(4);
        if (input.Length < width) return (byte[])input.Clone();
        at = Math.Min(at, input.Length - width);
        var r = (byte[])input.Clone();
        var field = r.AsSpan(at, width);
        bool bigEndian = rng.Next(2) == 0;
        long value = rng.Next(3) == 0
            ? ReadField(field, bigEndian) + (rng.Next(2) == 0 ? 1 : -1)
            : s_interestingIntegers[rng.Next(s_interestingIntegers.Length)];
        Span<byte> eight = stackalloc byte[8];
        if (bigEndian)
        {
            BinaryPrimitives.WriteInt64BigEndian(eight, value);
            eight[(8 - width)..].CopyTo(field);
        }
        else
        {
            BinaryPrimitives.WriteInt64LittleEndian(eight, value);
            eight[..width].CopyTo(field);
        }
        return r;
    }

    private static long ReadField(ReadOnlySpan<byte> field, bool bigEndian)
    {
        long v = 0;
        for (int i = 0; i < field.Length; i++) v = (v << 8) | field[bigEndian ? i : field.Length - 1 - i];
        return v;
    }

    private static byte[] Extension(byte[] input, Random rng) => rng.Next(3) switch
    {
        0 => RandomBytes(rng, 1 + rng.Next(64)),
        1 => new byte[1 + rng.Next(64)],
        _ => input[rng.Next(input.Length)..],
    };

    private static int ChunkLength(Random rng, int available) => Math.Min(available, 1 + (rng.Next(4) == 0 ? rng.Next(256) : rng.Next(8)));

    public static byte[] RandomBytes(Random rng, int length)
    {
        var b = new byte[length];
        rng.NextBytes(b);
        return b;
    }
}

/// <summary>
/// Token-level mutations of JSON text that may already be broken: a number set to a boundary or nudged, a string
/// swapped for a dictionary word or another string of the document, a token or a whole value deleted, duplicated,
/// replaced by another value of the document or by a deep nest, commas and brackets dropped.
/// </summary>
internal static class JsonMutator
{
    private static readonly string[] s_numbers =
    [
        "0", "-0", "1", "-1", "2", "3", "4", "7", "8", "255", "256", "65535", "65536", "2147483647", "2147483648", "-2147483648",
        "4294967295", "4294967296", "9223372036854775807", "9223372036854775808", "18446744073709551616", "100000000", "1000000000",
        "1e308", "-1e308", "1e999", "1e-320", "0.5", "1.5", "-0.5", "1e5", "3.4028235e38", "NaN", "Infinity", "01", "1.", ".5", "--1",
    ];

    private static readonly string[] s_values = ["null", "true", "false", "[]", "{}", "[[]]", "\"\"", "\"x\"", "[0]", "[1,2]", "{\"a\":1}", "[null]"];

    private static readonly string[] s_strings =
    [
        "", " ", "\\u0000", "\\ud800", "\\udfff\\ud800", "\\\"", "\\\\", "é", "\u00ff\u00fe", "__metadata__", "id", "cases", "meta", "family", "shape",
        "dtype", "data_offsets", "params", "surrogate", "name", "alpha", "0", "-1", "1e999",
    ];

    /// <summary>Applies one token-level mutation; <paramref name="dictionary"/> adds words of the format (dtype names, families, …).</summary>
    public static byte[] Mutate(byte[] json, Random rng, IReadOnlyList<string> dictionary)
    {
        var tokens = Tokenize(json);
        if (tokens.Count == 0) return [.. json, .. Encoding.UTF8.GetBytes(s_values[rng.Next(s_values.Length)])];
        var token = tokens[rng.Next(tokens.Count)];
        switch (rng.Next(10))
        {
            case 0:
            case 1:
            {
                var number = Pick(tokens, rng, TokenKind.Number) ?? token;
                return Replace(json, number, NumberFor(json, number, rng));
            }
            case 2:
            {
                var text = Pick(tokens, rng, TokenKind.String) ?? token;
                string word = rng.Next(3) switch
                {
                    0 => s_strings[rng.Next(s_strings.Length)],
                    1 when dictionary.Count > 0 => dictionary[rng.Next(dictionary.Count)],
                    _ => StringOf(json, tokens, rng),
                };
                return Replace(json, text, "\"" + word + "\"");
            }
            case 3:
                return Replace(json, token, "");
            case 4:
            {
                var (start, end) = ValueSpan(tokens, rng.Next(tokens.Count));
                return [.. json.AsSpan(0, end), .. ","u8, .. json.AsSpan(start, end - start), .. json.AsSpan(end)];
            }
            case 5:
            {
                var (start, end) = ValueSpan(tokens, rng.Next(tokens.Count));
                var (from, to) = ValueSpan(tokens, rng.Next(tokens.Count));
                return [.. json.AsSpan(0, start), .. json.AsSpan(from, to - from), .. json.AsSpan(end)];
            }
            case 6:
            {
                var (start, end) = ValueSpan(tokens, rng.Next(tokens.Count));
                return Splice(json, start, end, s_values[rng.Next(s_values.Length)]);
            }
            case 7:
            {
                var (start, end) = ValueSpan(tokens, rng.Next(tokens.Count));
                int depth = rng.Next(4) == 0 ? 1 + rng.Next(2000) : 1 + rng.Next(8);
                bool array = rng.Next(2) == 0;
                string open = array ? "[" : "{\"k\":", close = array ? "]" : "}";
                var inner = Encoding.UTF8.GetString(json, start, end - start);
                return Splice(json, start, end, RepeatString(open, depth) + inner + RepeatString(close, depth));
            }
            case 8:
            {
                var (start, end) = ValueSpan(tokens, rng.Next(tokens.Count));
                return [.. json.AsSpan(0, start), .. json.AsSpan(end)];
            }
            default:
            {
                // Drop or add a structural character: a missing comma, bracket or colon.
                var punct = Pick(tokens, rng, TokenKind.Punctuation) ?? token;
                return rng.Next(2) == 0 ? Replace(json, punct, "") : Replace(json, punct, Encoding.UTF8.GetString(json, punct.Start, punct.Length) + "[{,:]}"[rng.Next(6)]);
            }
        }
    }

    private static string StringOf(byte[] json, List<Token> tokens, Random rng)
    {
        var s = Pick(tokens, rng, TokenKind.String);
        return s is null || s.Value.Length < 2 ? "" : Encoding.UTF8.GetString(json, s.Value.Start + 1, s.Value.Length - 2);
    }

    private static string NumberFor(byte[] json, Token number, Random rng)
    {
        if (number.Kind == TokenKind.Number && rng.Next(3) == 0
            && double.TryParse(Encoding.UTF8.GetString(json, number.Start, number.Length), NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
        {
            double nudged = rng.Next(4) switch { 0 => v + 1, 1 => v - 1, 2 => v * 1000, _ => -v };
            return nudged.ToString("R", CultureInfo.InvariantCulture);
        }
        return s_numbers[rng.Next(s_numbers.Length)];
    }

    private static Token? Pick(List<Token> tokens, Random rng, TokenKind kind)
    {
        for (int tries = 0; tries < 16; tries++)
        {
            var t = tokens[rng.Next(tokens.Count)];
            if (t.Kind == kind) return t;
        }
        return null;
    }

    // The byte range of the value starting at token i: a bracketed value through its matching close, else the token.
    private static (int Start, int End) ValueSpan(List<Token> tokens, int i)
    {
        var t = tokens[i];
        if (t.Kind == TokenKind.Punctuation && t.Length == 1 && t.Open)
        {
            int depth = 0;
            for (int j = i; j < tokens.Count; j++)
            {
                if (tokens[j].Kind != TokenKind.Punctuation) continue;
                if (tokens[j].Open) depth++;
                else if (tokens[j].Close && --depth == 0) return (t.Start, tokens[j].Start + 1);
            }
        }
        return (t.Start, t.Start + t.Length);
    }

    private static byte[] Replace(byte[] json, Token t, string text) => Splice(json, t.Start, t.Start + t.Length, text);

    private static byte[] Splice(byte[] json, int start, int end, string text) => [.. json.AsSpan(0, start), .. Encoding.UTF8.GetBytes(text), .. json.AsSpan(end)];

    private static string RepeatString(string s, int count)
    {
        var b = new StringBuilder(s.Length * count);
        for (int i = 0; i < count; i++) b.Append(s);
        return b.ToString();
    }

    internal enum TokenKind { Number, String, Literal, Punctuation }

    internal readonly record struct Token(int Start, int Length, TokenKind Kind, bool Open, bool Close);

    /// <summary>A forgiving lexer: strings (with escapes), numbers, bare words and punctuation; anything else is skipped.</summary>
    internal static List<Token> Tokenize(byte[] json)
    {
        var tokens = new List<Token>();
        int i = 0;
        while (i < json.Length)
        {
            byte c = json[i];
            if (c == '"')
            {
                int j = i + 1;
                while (j < json.Length && json[j] != '"') j += json[j] == '\\' ? 2 : 1;
                j = Math.Min(j + 1, json.Length);
                tokens.Add(new Token(i, j - i, TokenKind.String, false, false));
                i = j;
            }
            else if (c == '-' || (c >= '0' && c <= '9'))
            {
                int j = i + 1;
                while (j < json.Length && (json[j] is (byte)'.' or (byte)'e' or (byte)'E' or (byte)'+' or (byte)'-' || (json[j] >= '0' && json[j] <= '9'))) j++;
                tokens.Add(new Token(i, j - i, TokenKind.Number, false, false));
                i = j;
            }
            else if (c is (byte)'[' or (byte)'{' or (byte)']' or (byte)'}' or (byte)',' or (byte)':')
            {
                tokens.Add(new Token(i, 1, TokenKind.Punctuation, c is (byte)'[' or (byte)'{', c is (byte)']' or (byte)'}'));
                i++;
            }
            else if (c >= 'a' && c <= 'z')
            {
                int j = i + 1;
                while (j < json.Length && json[j] >= 'a' && json[j] <= 'z') j++;
                tokens.Add(new Token(i, j - i, TokenKind.Literal, false, false));
                i = j;
            }
            else
            {
                i++;
            }
        }
        return tokens;
    }
}
