using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;
using Spiking.Layers.IO;
using Spiking.Tensors;

namespace Spiking.Layers.Serialization;

/// <summary>
/// Reads the safetensors format (<see href="https://github.com/huggingface/safetensors"/>): an 8-byte
/// little-endian header length N, N bytes of UTF-8 JSON
/// <c>{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, …, "__metadata__": {str: str}}</c>
/// (usually padded with spaces to a multiple of 8), then the little-endian data, offsets counted from the byte
/// after the header. <see cref="SafeTensorsWriter"/> writes it.
/// </summary>
/// <remarks>
/// The reader checks what Python's <c>safetensors</c> checks: the header fits the file, is one well-formed JSON
/// object, every tensor has a known dtype, a shape and offsets whose length is dtype size × element count, and the
/// tensors' bytes tile the data region exactly (start at 0, no overlap, no gap, end at the end of the file).
/// Errors are <see cref="InvalidDataException"/>s naming the file and the tensor. Files up to 2 GiB (one array).
/// </remarks>
public static class SafeTensors
{
    /// <summary>The largest header accepted, as in the reference implementation (100 MB).</summary>
    public const int MaxHeaderLength = 100_000_000;

    /// <summary>The header's key for the string-to-string metadata.</summary>
    public const string MetadataKey = "__metadata__";

    /// <summary>Reads and validates the file at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">
    /// The file is not valid safetensors, is larger than one array holds (about 2 GiB), or is not a regular file
    /// (see <see cref="InputFile"/>).
    /// </exception>
    public static SafeTensorsFile Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Parse(InputFile.ReadAllBytes(path, Array.MaxLength, "Safetensors file"), path);
    }

    /// <summary>Parses and validates safetensors bytes; <paramref name="source"/> names them in messages.</summary>
    /// <exception cref="InvalidDataException">The bytes are not valid safetensors.</exception>
    public static SafeTensorsFile Parse(ReadOnlyMemory<byte> bytes, string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var span = bytes.Span;
        if (span.Length < 8) throw Invalid(source, $"is {span.Length} bytes long; a safetensors file starts with an 8-byte header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(span);
        if (headerLength > (ulong)(span.Length - 8) || headerLength > MaxHeaderLength)
        {
            throw Invalid(source, $"declares a {headerLength}-byte header, but only {span.Length - 8} bytes follow the length (at most {MaxHeaderLength} allowed)");
        }
        int n = (int)headerLength;
        var header = ParseHeader(span.Slice(8, n), source);
        var data = bytes[(8 + n)..];

        var order = new List<HeaderEntry>(header.Entries);
        order.Sort(static (a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long expectedBegin = 0;
        var entries = new List<SafeTensorsEntry>(order.Count);
        foreach (var e in order)
        {
            if (e.Begin != expectedBegin)
            {
                throw Invalid(source, e.Begin < expectedBegin
                    ? $"tensor '{e.Name}' data_offsets [{e.Begin}, {e.End}] overlap the previous tensor, which ends at {expectedBegin}"
                    : $"tensor '{e.Name}' data_offsets [{e.Begin}, {e.End}] leave a gap: the previous tensor ends at {expectedBegin}");
            }
            if (e.End > data.Length)
            {
                throw Invalid(source, $"tensor '{e.Name}' data_offsets [{e.Begin}, {e.End}] run past the {data.Length}-byte data region");
            }
            entries.Add(new SafeTensorsEntry(source, e.Name, e.DType, e.Shape, data[(int)e.Begin..(int)e.End]));
            expectedBegin = e.End;
        }
        if (expectedBegin != data.Length)
        {
            throw Invalid(source, $"the tensors cover {expectedBegin} bytes of data, but the data region after the header holds {data.Length}");
        }
        return new SafeTensorsFile(source, entries, header.Metadata);
    }

    /// <summary>The size in bytes of one element of <paramref name="dtype"/>.</summary>
    public static int ElementSize(SafeTensorsDType dtype) => dtype switch
    {
        SafeTensorsDType.BOOL or SafeTensorsDType.U8 or SafeTensorsDType.I8 => 1,
        SafeTensorsDType.U16 or SafeTensorsDType.I16 or SafeTensorsDType.F16 or SafeTensorsDType.BF16 => 2,
        SafeTensorsDType.U32 or SafeTensorsDType.I32 or SafeTensorsDType.F32 => 4,
        SafeTensorsDType.U64 or SafeTensorsDType.I64 or SafeTensorsDType.F64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Not a safetensors dtype."),
    };

    internal static InvalidDataException Invalid(string source, string problem) => new($"Safetensors file '{source}': {problem}.");

    private static (List<HeaderEntry> Entries, Dictionary<string, string> Metadata) ParseHeader(ReadOnlySpan<byte> json, string source)
    {
        var entries = new List<HeaderEntry>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var names = new HashSet<string>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 8 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw Invalid(source, "the header is not a JSON object");
            while (Next(ref reader, source) != JsonTokenType.EndObject)
            {
                string name = reader.GetString()!;
                if (!names.Add(name)) throw Invalid(source, $"the header names '{name}' twice");
                Next(ref reader, source);
                if (name == MetadataKey) ReadMetadata(ref reader, source, metadata);
                else entries.Add(ReadEntry(ref reader, source, name));
            }
            if (reader.Read()) throw Invalid(source, $"the header has content after its JSON object, at byte {reader.TokenStartIndex}");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Safetensors file '{source}': the {json.Length}-byte header is not well-formed JSON: {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidDataException($"Safetensors file '{source}': the header holds an unreadable string: {e.Message}", e);
        }
        return (entries, metadata);
    }

    private static JsonTokenType Next(ref Utf8JsonReader reader, string source)
    {
        if (!reader.Read()) throw Invalid(source, "the header's JSON ends early");
        return reader.TokenType;
    }

    private static void ReadMetadata(ref Utf8JsonReader reader, string source, Dictionary<string, string> metadata)
    {
        if (reader.TokenType != JsonTokenType.StartObject) throw Invalid(source, $"'{MetadataKey}' is {reader.TokenType}, not an object of strings");
        while (Next(ref reader, source) != JsonTokenType.EndObject)
        {
            string key = reader.GetString()!;
            if (Next(ref reader, source) != JsonTokenType.String)
            {
                throw Invalid(source, $"'{MetadataKey}' value of '{key}' is {reader.TokenType}; metadata values must be strings");
            }
            if (!metadata.TryAdd(key, reader.GetString()!)) throw Invalid(source, $"'{MetadataKey}' names '{key}' twice");
        }
    }

    private static HeaderEntry ReadEntry(ref Utf8JsonReader reader, string source, string name)
    {
        if (reader.TokenType != JsonTokenType.StartObject) throw Invalid(source, $"tensor '{name}' is {reader.TokenType}, not an object");
        SafeTensorsDType? dtype = null;
        List<long>? shape = null, offsets = null;
        while (Next(ref reader, source) != JsonTokenType.EndObject)
        {
            string key = reader.GetString()!;
            Next(ref reader, source);
            switch (key)
            {
                case "dtype":
                    if (reader.TokenType != JsonTokenType.String) throw Invalid(source, $"tensor '{name}' dtype is {reader.TokenType}, not a string");
                    string text = reader.GetString()!;
                    dtype = ParseDType(text) ?? throw Invalid(source,
                        $"tensor '{name}' has dtype \"{text}\"; known are BOOL, U8, I8, U16, I16, F16, BF16, U32, I32, F32, U64, I64, F64");
                    break;
                case "shape":
                    shape = ReadIntegers(ref reader, source, name, key);
                    break;
                case "data_offsets":
                    offsets = ReadIntegers(ref reader, source, name, key);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        if (dtype is null || shape is null || offsets is null)
        {
            throw Invalid(source, $"tensor '{name}' lacks {(dtype is null ? "dtype" : shape is null ? "shape" : "data_offsets")}");
        }
        if (offsets.Count != 2 || offsets[0] > offsets[1])
        {
            throw Invalid(source, $"tensor '{name}' data_offsets are [{string.Join(", ", offsets)}]; expected [begin, end] with begin <= end");
        }
        var dims = new int[shape.Count];
        long elements = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            if (shape[i] > int.MaxValue) throw Invalid(source, $"tensor '{name}' has shape [{string.Join(", ", shape)}]; dimension {i} exceeds {int.MaxValue}");
            dims[i] = (int)shape[i];
            elements = elements * dims[i];
            if (elements > int.MaxValue) throw Invalid(source, $"tensor '{name}' has shape [{string.Join(", ", shape)}], more than {int.MaxValue} elements");
        }
        long expected = elements * ElementSize(dtype.Value);
        if (offsets[1] - offsets[0] != expected)
        {
            throw Invalid(source,
                $"tensor '{name}' is {dtype}[{string.Join(", ", shape)}], {expected} bytes, but its data_offsets [{offsets[0]}, {offsets[1]}] span {offsets[1] - offsets[0]}");
        }
        return new HeaderEntry(name, dtype.Value, new Shape(dims), offsets[0], offsets[1]);
    }

    private static List<long> ReadIntegers(ref Utf8JsonReader reader, string source, string name, string key)
    {
        if (reader.TokenType != JsonTokenType.StartArray) throw Invalid(source, $"tensor '{name}' {key} is {reader.TokenType}, not an array");
        var values = new List<long>(4);
        while (Next(ref reader, source) != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long v) || v < 0)
            {
                string seen = reader.TokenType == JsonTokenType.Number ? Encoding.UTF8.GetString(reader.ValueSpan) : reader.TokenType.ToString();
                throw Invalid(source, $"tensor '{name}' {key} holds {seen}; expected non-negative integers");
            }
            values.Add(v);
        }
        return values;
    }

    private static SafeTensorsDType? ParseDType(string text) => text switch
    {
        "BOOL" => SafeTensorsDType.BOOL,
        "U8" => SafeTensorsDType.U8,
        "I8" => SafeTensorsDType.I8,
        "U16" => SafeTensorsDType.U16,
        "I16" => SafeTensorsDType.I16,
        "F16" => SafeTensorsDType.F16,
        "BF16" => SafeTensorsDType.BF16,
        "U32" => SafeTensorsDType.U32,
        "I32" => SafeTensorsDType.I32,
        "F32" => SafeTensorsDType.F32,
        "U64" => SafeTensorsDType.U64,
        "I64" => SafeTensorsDType.I64,
        "F64" => SafeTensorsDType.F64,
        _ => null,
    };

    private readonly record struct HeaderEntry(string Name, SafeTensorsDType DType, Shape Shape, long Begin, long End);
}
