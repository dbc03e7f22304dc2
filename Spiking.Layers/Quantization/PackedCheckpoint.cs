using System;
using System.Collections.Generic;
using System.IO;
using Spiking.Layers.Serialization;
using Spiking.Tensors;

namespace Spiking.Layers.Quantization;

/// <summary>
/// A checkpoint whose LSQ weights are stored packed at their bit width (<see cref="QuantizedWeight"/>: <c>name.codes</c>
/// as I8, or U8 with two 4-bit codes a byte, and <c>name.scale</c>, the layer's step α, in place of the layer's
/// <c>weight</c> and <c>alpha</c>); every other entry (batch norms, biases, float layers) is kept as it is.
/// </summary>
/// <remarks>
/// Loading gives each LSQ layer the weight <c>code·α</c> and the step α. The layer's codes are then
/// <c>round(code·α/α)</c>, which is the code again (the quotient is within a few ulps of a small integer), so the
/// loaded model computes exactly what the packed one describes: the fake-quant model's outputs.
/// </remarks>
public static class PackedCheckpoint
{
    /// <summary>The metadata key that marks a packed checkpoint.</summary>
    public const string PackedKey = "packed";

    /// <summary>
    /// Writes <paramref name="model"/> to <paramref name="path"/> with every LSQ layer's weight packed; returns the
    /// bytes written.
    /// </summary>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static long Save(Module model, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var writer = new SafeTensorsWriter();
        var packed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, module) in model.NamedModules())
        {
            if (module is not LsqLayer layer) continue;
            string prefix = name.Length == 0 ? "" : name + ".";
            layer.ExportCodes().AddTo(writer, prefix + "weight");
            packed.Add(prefix + "weight");
            packed.Add(prefix + "alpha");
        }
        foreach (var entry in model.StateDict())
        {
            if (packed.Contains(entry.Name)) continue;
            if (entry.Value is not null) writer.Add(entry.Name, entry.Value);
            else writer.Add(entry.Name, entry.Counter!.Value);
        }
        if (metadata is not null)
        {
            foreach (var (key, value) in metadata) writer.AddMetadata(key, value);
        }
        writer.AddMetadata(PackedKey, "lsq");
        writer.Save(path);
        return new FileInfo(path).Length;
    }

    /// <summary>Whether <paramref name="file"/> holds packed weights.</summary>
    public static bool IsPacked(SafeTensorsFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        return QuantizedWeight.Names(file).Count > 0;
    }

    /// <summary>
    /// Fills <paramref name="model"/> from a packed checkpoint: each packed weight becomes the LSQ layer's
    /// <c>weight</c> (<c>code·α</c>) and <c>alpha</c>, the other entries load as <see cref="Checkpoint.Load(Module, SafeTensorsFile, bool)"/> loads them.
    /// </summary>
    /// <exception cref="InvalidDataException">A packed weight is malformed, or the file does not match the model; the model is unchanged.</exception>
    public static void Load(Module model, SafeTensorsFile file)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(file);
        var names = QuantizedWeight.Names(file);
        var packedEntries = new HashSet<string>(StringComparer.Ordinal);
        var writer = new SafeTensorsWriter();
        var unpacked = new List<Tensor>();
        Span<long> counter = stackalloc long[1];
        try
        {
            foreach (string weightName in names)
            {
                var weight = QuantizedWeight.Read(file, weightName);
                var dense = weight.Dequantize();
                unpacked.Add(dense);
                writer.Add(weightName, dense);
                string alphaName = weightName.EndsWith(".weight", StringComparison.Ordinal) ? weightName[..^".weight".Length] + ".alpha" : "alpha";
                writer.Add(alphaName, weight.Scales, new Shape(weight.OutFeatures));
                packedEntries.Add(weightName + QuantizedWeight.CodesSuffix);
                packedEntries.Add(weightName + QuantizedWeight.ScaleSuffix);
            }
            foreach (var entry in file.Entries)
            {
                if (packedEntries.Contains(entry.Name)) continue;
                if (entry.IsInteger && entry.Shape.Rank == 0)
                {
                    entry.CopyTo(counter);
                    writer.Add(entry.Name, counter[0]);
                }
                else
                {
                    var values = new float[entry.Shape.ElementCount];
                    entry.CopyTo(values);
                    writer.Add(entry.Name, values, entry.Shape);
                }
            }
            using var stream = new MemoryStream();
            writer.WriteTo(stream);
            Checkpoint.Load(model, SafeTensors.Parse(stream.ToArray(), file.Source));
        }
        finally
        {
            foreach (var t in unpacked) t.Dispose();
        }
    }
}
