using System;
using System.Collections.Generic;
using System.Text.Json;

namespace Spiking.Cli.Conformance;

/// <summary>Reads golden-file values: nested JSON lists in row-major order, numbers, strings and objects, with messages that name the field.</summary>
internal static class JsonArrays
{
    /// <summary>A nested list of numbers (or a single number) as flat values and its shape.</summary>
    public static (double[] Values, int[] Shape) Read(JsonElement element, string field)
    {
        var shape = new List<int>();
        var probe = element;
        while (probe.ValueKind == JsonValueKind.Array)
        {
            shape.Add(probe.GetArrayLength());
            if (probe.GetArrayLength() == 0) break;
            probe = probe[0];
        }
        var values = new List<double>();
        Flatten(element, 0, shape, values, field);
        return (values.ToArray(), shape.ToArray());
    }

    /// <summary>The values of a nested list, checked against <paramref name="shape"/>.</summary>
    public static double[] Read(JsonElement element, string field, int[] shape)
    {
        var (values, actual) = Read(element, field);
        if (!actual.AsSpan().SequenceEqual(shape))
        {
            throw new FormatException($"field '{field}' has shape [{string.Join(", ", actual)}]; expected [{string.Join(", ", shape)}]");
        }
        return values;
    }

    /// <summary>The values rounded to float32, as the engine sees them.</summary>
    public static float[] ToFloats(double[] values)
    {
        var f = new float[values.Length];
        for (int i = 0; i < f.Length; i++) f[i] = (float)values[i];
        return f;
    }

    /// <summary>A required property of an object.</summary>
    public static JsonElement Property(JsonElement obj, string name, string context)
    {
        if (obj.ValueKind != JsonValueKind.Object || !obj.TryGetProperty(name, out var value))
        {
            throw new FormatException($"{context} has no field '{name}'");
        }
        return value;
    }

    /// <summary>A required number.</summary>
    public static double Number(JsonElement obj, string name, string context)
    {
        var e = Property(obj, name, context);
        return e.ValueKind == JsonValueKind.Number ? e.GetDouble() : throw new FormatException($"field '{name}' of {context} must be a number; got {e.ValueKind}");
    }

    /// <summary>A required string.</summary>
    public static string String(JsonElement obj, string name, string context)
    {
        var e = Property(obj, name, context);
        return e.ValueKind == JsonValueKind.String ? e.GetString()! : throw new FormatException($"field '{name}' of {context} must be a string; got {e.ValueKind}");
    }

    /// <summary>A required boolean.</summary>
    public static bool Boolean(JsonElement obj, string name, string context)
    {
        var e = Property(obj, name, context);
        return e.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new FormatException($"field '{name}' of {context} must be true or false; got {e.ValueKind}"),
        };
    }

    /// <summary>A list of integers (a shape).</summary>
    public static int[] Shape(JsonElement obj, string name, string context)
    {
        var e = Property(obj, name, context);
        if (e.ValueKind != JsonValueKind.Array) throw new FormatException($"field '{name}' of {context} must be a list of integers");
        var dims = new int[e.GetArrayLength()];
        int i = 0;
        foreach (var d in e.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out dims[i]) || dims[i] < 0)
            {
                throw new FormatException($"field '{name}' of {context} must be a list of non-negative integers");
            }
            i++;
        }
        return dims;
    }

    private static void Flatten(JsonElement e, int depth, List<int> shape, List<double> values, string field)
    {
        if (depth == shape.Count)
        {
            if (e.ValueKind != JsonValueKind.Number) throw new FormatException($"field '{field}' holds {e.ValueKind} where a number belongs");
            values.Add(e.GetDouble());
            return;
        }
        if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() != shape[depth])
        {
            throw new FormatException($"field '{field}' is not a rectangular nested list (axis {depth} should have length {shape[depth]})");
        }
        foreach (var item in e.EnumerateArray()) Flatten(item, depth + 1, shape, values, field);
    }
}
