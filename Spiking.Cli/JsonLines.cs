using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using Spiking.Layers;

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

    /// <summary>
    /// Writes each field of <paramref name="record"/> into the open object: strings, booleans, whole numbers and
    /// floating-point numbers (non-finite as null), null as null.
    /// </summary>
    /// <exception cref="ArgumentException">A value has another type.</exception>
    public static void Fields(Utf8JsonWriter w, IEnumerable<KeyValuePair<string, object?>> record)
    {
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
    }

    /// <summary>
    /// <c>"energy"</c>: the report's totals per <paramref name="unit"/> (<c>sops_per_sample</c>, …), the energy of one
    /// accumulate and one multiply–accumulate, the memory traffic's energy (STEP) and each synaptic layer's counts,
    /// weight bit width and bits moved.
    /// </summary>
    public static void Energy(Utf8JsonWriter w, EnergyReport report, string unit)
    {
        w.WriteStartObject("energy");
        Number(w, $"sops_per_{unit}", report.SynapticOperations);
        Number(w, $"macs_per_{unit}", report.MultiplyAccumulates);
        Number(w, $"microjoules_per_{unit}", report.Microjoules);
        Number(w, $"memory_microjoules_per_{unit}", report.MemoryMicrojoules);
        Number(w, $"total_microjoules_per_{unit}", report.TotalMicrojoules);
        Number(w, "e_ac_pj", EnergyModel.AccumulatePicojoules);
        Number(w, "e_mac_pj", EnergyModel.MultiplyAccumulatePicojoules);
        Number(w, "e_mem_pj_per_bit", EnergyModel.MemoryPicojoulesPerBit);
        w.WriteStartArray("layers");
        foreach (var l in report.Layers)
        {
            w.WriteStartObject();
            w.WriteString("name", l.Name);
            w.WriteString("kind", l.Kind);
            Number(w, "sops", l.SynapticOperations);
            Number(w, "macs", l.MultiplyAccumulates);
            Number(w, "microjoules", l.Microjoules);
            Number(w, "weight_bits", l.WeightBits);
            Number(w, "weight_bits_read", l.WeightBitsRead);
            Number(w, "input_bits_read", l.InputBitsRead);
            Number(w, "memory_microjoules", l.MemoryMicrojoules);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>
    /// Appends one object, its fields written by <paramref name="writeFields"/>, as a line of <paramref name="path"/>;
    /// a file that cannot be written is an <see cref="OutputException"/> naming <c>--json</c>.
    /// </summary>
    public static void AppendObject(string path, Action<Utf8JsonWriter> writeFields)
    {
        using var stream = Serialize(writeFields);
        try
        {
            AppendTo(path, stream);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OutputException($"--json '{path}' could not be written: {e.Message}");
        }
    }

    /// <summary>Appends <paramref name="record"/> as one JSON object line to the file (nothing without a path).</summary>
    public void Write(IEnumerable<KeyValuePair<string, object?>> record)
    {
        if (path is null) return;
        using var stream = Serialize(w => Fields(w, record));
        AppendTo(path, stream);
    }

    private static MemoryStream Serialize(Action<Utf8JsonWriter> writeFields)
    {
        var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            writeFields(w);
            w.WriteEndObject();
        }
        stream.WriteByte((byte)'\n');
        stream.Position = 0;
        return stream;
    }

    private static void AppendTo(string path, MemoryStream line)
    {
        using var file = new FileStream(path, FileMode.Append, FileAccess.Write);
        line.CopyTo(file);
    }
}
