using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;

namespace Spiking.Cli;

/// <summary>
/// Appends one JSON object per line to a file, in the style of the peers' <c>--json FILE</c>, without reflection. JSON
/// has no NaN or infinity: a non-finite number is written as <c>null</c>, so no measured value can break a run's output.
/// </summary>
internal sealed class JsonLines(string? path)
{
    /// <summary>Writes <paramref name="value"/> under <paramref name="key"/>, or null when it is not finite.</summary>
    public static void Number(Utf8JsonWriter writer, string key, double value)
    {
        if (double.IsFinite(value)) writer.WriteNumber(key, value);
        else writer.WriteNull(key);
    }

    /// <summary>Writes <paramref name="value"/> as an array element, or null when it is not finite.</summary>
    public static void NumberValue(Utf8JsonWriter writer, double value)
    {
        if (double.IsFinite(value)) writer.WriteNumberValue(value);
        else writer.WriteNullValue();
    }

    public void Write(IEnumerable<KeyValuePair<string, object?>> record)
    {
        if (path is null) return;
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            foreach (var (key, value) in record)
            {
                switch (value)
                {
                    case null: w.WriteNull(key); break;
                    case string s: w.WriteString(key, s); break;
                    case bool b: w.WriteBoolean(key, b); break;
                    case int i: w.WriteNumber(key, i); break;
                    case long l: w.WriteNumber(key, l); break;
                    case double d: Number(w, key, d); break;
                    case float f: Number(w, key, f); break;
                    default: throw new ArgumentException($"JSON value of key '{key}' has unsupported type {value.GetType().Name}.", nameof(record));
                }
            }
            w.WriteEndObject();
        }
        stream.WriteByte((byte)'\n');
        using var file = new FileStream(path, FileMode.Append, FileAccess.Write);
        stream.Position = 0;
        stream.CopyTo(file);
    }
}
