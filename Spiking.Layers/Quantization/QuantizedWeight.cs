using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text.Json;
using Spiking.Layers.Serialization;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Layers.Quantization;

/// <summary>
/// A quantized weight as an integer engine stores and runs it: integer codes at their bit width, one float scale per
/// output channel, and the logical shape <c>[N, …]</c> (PyTorch's layout: <c>Linear</c> <c>[out, in]</c>,
/// <c>Conv2d</c> <c>[out, in, kh, kw]</c>). The weight it stands for is <c>code · scale[n]</c>; every output row
/// <c>n</c> holds <c>K = N⁻¹·(element count)</c> codes.
/// <list type="bullet">
/// <item>8-bit: <see cref="Data"/> is the codes −128…127 as two's complement bytes, row-major.</item>
/// <item>4-bit: <see cref="Data"/> is the codes −8…7 two to a byte as <see cref="Int4Codes"/> describes: each row
/// <c>⌈K/2⌉</c> bytes, low nibble first, a zero nibble padding an odd row.</item>
/// </list>
/// In a safetensors file the weight named <c>w</c> is two entries and two metadata keys (<see cref="AddTo"/>,
/// <see cref="Read"/>), so any safetensors reader can load it and <c>__metadata__</c> tells how.
/// </summary>
public sealed class QuantizedWeight
{
    /// <summary>The suffix of the codes entry: <c>w.codes</c>, I8 with the logical shape (8-bit) or U8 <c>[N, ⌈K/2⌉]</c> (4-bit).</summary>
    public const string CodesSuffix = ".codes";

    /// <summary>The suffix of the scales entry: <c>w.scale</c>, F32 <c>[N]</c>.</summary>
    public const string ScaleSuffix = ".scale";

    /// <summary>The suffix of the metadata key holding the bit width, <c>"8"</c> or <c>"4"</c>.</summary>
    public const string BitsKey = ".bits";

    /// <summary>The suffix of the metadata key holding the logical shape as a JSON array, e.g. <c>"[384,96,3,3]"</c>.</summary>
    public const string ShapeKey = ".shape";

    private readonly byte[] _data;
    private readonly float[] _scales;

    private QuantizedWeight(byte[] data, Shape shape, int bits, float[] scales)
    {
        _data = data;
        _scales = scales;
        Shape = shape;
        Bits = bits;
    }

    /// <summary>The code width: 8 or 4.</summary>
    public int Bits { get; }

    /// <summary>The logical shape of the weight, <c>[N, …]</c>.</summary>
    public Shape Shape { get; }

    /// <summary>N, the output channels (the first dimension).</summary>
    public int OutFeatures => Shape[0];

    /// <summary>K, the codes of one output channel (the product of the other dimensions).</summary>
    public int InFeatures => Shape.ProductOfTrailing(1);

    /// <summary>The codes as stored: one byte a code (8-bit) or two codes a byte in byte-aligned rows (4-bit).</summary>
    public ReadOnlyMemory<byte> Data => _data;

    /// <summary>The float scale of each output channel, length N.</summary>
    public ReadOnlyMemory<float> Scales => _scales;

    /// <summary>The bytes the codes and scales take: what the weight costs in memory and, plus a header, in a file.</summary>
    public long ByteCount => _data.Length + 4L * _scales.Length;

    /// <summary>
    /// A weight from integer codes of <paramref name="shape"/> (row-major), each within the <paramref name="bits"/>-bit
    /// range, and one scale per output channel (finite).
    /// </summary>
    /// <exception cref="ArgumentException">A length does not match the shape, or a scale is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The bit width is not 8 or 4, the shape has no output axis, or a code is out of range.</exception>
    public static QuantizedWeight FromCodes(ReadOnlySpan<sbyte> codes, Shape shape, int bits, ReadOnlySpan<float> scales)
    {
        CheckShape(shape, bits);
        if (codes.Length != shape.ElementCount) throw new ArgumentException($"Codes hold {codes.Length} values; shape {shape} holds {shape.ElementCount}.", nameof(codes));
        CheckScales(scales, shape[0], nameof(scales));
        int n = shape[0], k = shape.ProductOfTrailing(1);
        byte[] data;
        if (bits == 4)
        {
            data = new byte[(long)n * Int4Codes.RowBytes(k)];
            Int4Codes.Pack(codes, n, k, data);
        }
        else
        {
            data = new byte[codes.Length];
            for (int i = 0; i < data.Length; i++) data[i] = (byte)codes[i];
        }
        return new QuantizedWeight(data, shape, bits, scales.ToArray());
    }

    /// <summary>The codes unpacked to one signed byte each, row-major in the logical shape.</summary>
    public sbyte[] Codes()
    {
        var codes = new sbyte[Shape.ElementCount];
        if (Bits == 4) Int4Codes.Unpack(_data, OutFeatures, InFeatures, codes);
        else for (int i = 0; i < codes.Length; i++) codes[i] = (sbyte)_data[i];
        return codes;
    }

    /// <summary>The float weight <c>code · scale[n]</c> the codes stand for, in the logical shape.</summary>
    public Tensor Dequantize()
    {
        var codes = Codes();
        var w = Tensor.Empty(Shape);
        var values = w.AsSpan();
        int k = InFeatures;
        for (int i = 0; i < values.Length; i++) values[i] = codes[i] * _scales[i / Math.Max(1, k)];
        return w;
    }

    /// <summary>A prepared linear kernel over these codes (K = the product of the trailing dimensions).</summary>
    /// <param name="bias">The float bias of each output (length N), or empty for none.</param>
    /// <param name="path">The instruction path; the fastest supported when null.</param>
    public QuantizedLinearKernel ToLinearKernel(ReadOnlySpan<float> bias = default, IntegerKernelPath? path = null) => Bits == 4
        ? QuantizedLinearKernel.FromInt4(_data, OutFeatures, InFeatures, _scales, bias, path)
        : QuantizedLinearKernel.FromInt8(AsCodes(), OutFeatures, InFeatures, _scales, bias, path);

    /// <summary>A prepared convolution (groups 1) over these codes, which must have the shape <c>[O, C, kh, kw]</c>.</summary>
    /// <exception cref="InvalidOperationException">The weight is not rank 4.</exception>
    public QuantizedConvKernel ToConvKernel(int stride, int padding, ReadOnlySpan<float> bias = default, IntegerKernelPath? path = null)
    {
        if (Shape.Rank != 4) throw new InvalidOperationException($"A convolution weight is [O, C, kh, kw]; this one is {Shape}.");
        return Bits == 4
            ? QuantizedConvKernel.FromInt4(_data, Shape[0], Shape[1], Shape[2], Shape[3], stride, padding, _scales, bias, path)
            : QuantizedConvKernel.FromInt8(AsCodes(), Shape[0], Shape[1], Shape[2], Shape[3], stride, padding, _scales, bias, path);
    }

    /// <summary>A prepared depthwise convolution over these codes, which must have the shape <c>[C, 1, kh, kw]</c>.</summary>
    /// <exception cref="InvalidOperationException">The weight is not <c>[C, 1, kh, kw]</c>.</exception>
    public QuantizedDepthwiseConvKernel ToDepthwiseConvKernel(int stride, int padding, ReadOnlySpan<float> bias = default, IntegerKernelPath? path = null)
    {
        if (Shape.Rank != 4 || Shape[1] != 1) throw new InvalidOperationException($"A depthwise convolution weight is [C, 1, kh, kw]; this one is {Shape}.");
        return Bits == 4
            ? QuantizedDepthwiseConvKernel.FromInt4(_data, Shape[0], Shape[2], Shape[3], stride, padding, _scales, bias, path)
            : QuantizedDepthwiseConvKernel.FromInt8(AsCodes(), Shape[0], Shape[2], Shape[3], stride, padding, _scales, bias, path);
    }

    /// <summary>
    /// Adds the weight to <paramref name="writer"/> as <c>name.codes</c> and <c>name.scale</c>, with metadata
    /// <c>name.bits</c> and <c>name.shape</c>. The writer references this weight's arrays until it saves.
    /// </summary>
    /// <exception cref="ArgumentException">An entry name is taken.</exception>
    public void AddTo(SafeTensorsWriter writer, string name)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var codesShape = Bits == 4 ? new Shape(OutFeatures, Int4Codes.RowBytes(InFeatures)) : Shape;
        writer.Add(name + CodesSuffix, _data, codesShape, Bits == 4 ? SafeTensorsDType.U8 : SafeTensorsDType.I8);
        writer.Add(name + ScaleSuffix, _scales, new Shape(OutFeatures));
        writer.AddMetadata(name + BitsKey, Bits.ToString(CultureInfo.InvariantCulture));
        writer.AddMetadata(name + ShapeKey, "[" + string.Join(",", Shape.Dimensions.ToArray()) + "]");
    }

    /// <summary>The names of the quantized weights in <paramref name="file"/>: those with a <c>name.bits</c> metadata key, in ordinal order.</summary>
    public static IReadOnlyList<string> Names(SafeTensorsFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var names = new List<string>();
        foreach (var key in file.Metadata.Keys)
        {
            if (key.EndsWith(BitsKey, StringComparison.Ordinal) && key.Length > BitsKey.Length) names.Add(key[..^BitsKey.Length]);
        }
        names.Sort(StringComparer.Ordinal);
        return names;
    }

    /// <summary>Reads the quantized weight <paramref name="name"/> from <paramref name="file"/>, checking every entry against the metadata.</summary>
    /// <exception cref="InvalidDataException">
    /// An entry or key is missing, or a dtype, shape, bit width, padding nibble or scale is not what the format says;
    /// the message names the file, the weight and what was found.
    /// </exception>
    public static QuantizedWeight Read(SafeTensorsFile file, string name)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!file.Metadata.TryGetValue(name + BitsKey, out var bitsText)) throw Invalid(file, name, $"has no metadata key '{name}{BitsKey}'");
        int bits = bitsText switch
        {
            "8" => 8,
            "4" => 4,
            _ => throw Invalid(file, name, $"has bit width \"{bitsText}\"; expected \"8\" or \"4\""),
        };
        if (!file.Metadata.TryGetValue(name + ShapeKey, out var shapeText)) throw Invalid(file, name, $"has no metadata key '{name}{ShapeKey}'");
        var shape = ParseShape(file, name, shapeText);
        if (shape.Rank == 0 || shape[0] == 0) throw Invalid(file, name, $"has logical shape {shape}; a weight has at least one output channel");
        int n = shape[0], k = shape.ProductOfTrailing(1);

        var codes = Entry(file, name + CodesSuffix, name);
        var expectedType = bits == 4 ? SafeTensorsDType.U8 : SafeTensorsDType.I8;
        var expectedShape = bits == 4 ? new Shape(n, Int4Codes.RowBytes(k)) : shape;
        if (codes.DType != expectedType || codes.Shape != expectedShape)
        {
            throw Invalid(file, name, $"{bits}-bit codes of logical shape {shape} are stored as {expectedType}{expectedShape}, but '{codes.Name}' is {codes.DType}{codes.Shape}");
        }
        var data = codes.Data.ToArray();
        if (bits == 4 && (k & 1) != 0)
        {
            int rowBytes = Int4Codes.RowBytes(k);
            for (int r = 0; r < n; r++)
            {
                if (data[r * rowBytes + rowBytes - 1] >> 4 != 0)
                {
                    throw Invalid(file, name, $"row {r} of '{codes.Name}' ends in a non-zero padding nibble; 4-bit rows of odd length {k} must end in a zero nibble (is the file packed without row alignment?)");
                }
            }
        }

        var scaleEntry = Entry(file, name + ScaleSuffix, name);
        if (scaleEntry.DType != SafeTensorsDType.F32 || scaleEntry.Shape != new Shape(n))
        {
            throw Invalid(file, name, $"'{scaleEntry.Name}' is {scaleEntry.DType}{scaleEntry.Shape}; expected F32[{n}], one scale per output channel");
        }
        var scales = new float[n];
        scaleEntry.CopyTo(scales);
        for (int i = 0; i < n; i++)
        {
            if (!float.IsFinite(scales[i])) throw Invalid(file, name, $"scale {i} is {scales[i].ToString(CultureInfo.InvariantCulture)}; scales must be finite");
        }
        return new QuantizedWeight(data, shape, bits, scales);
    }

    private sbyte[] AsCodes()
    {
        var codes = new sbyte[_data.Length];
        Buffer.BlockCopy(_data, 0, codes, 0, _data.Length);
        return codes;
    }

    private static SafeTensorsEntry Entry(SafeTensorsFile file, string entry, string name) =>
        file.TryGetEntry(entry, out var e) ? e : throw Invalid(file, name, $"lacks the entry '{entry}'");

    private static Shape ParseShape(SafeTensorsFile file, string name, string text)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.ValueKind != JsonValueKind.Array) throw Invalid(file, name, $"has logical shape \"{text}\"; expected a JSON array of sizes such as [384,96,3,3]");
            var dims = new List<int>();
            long count = 1;
            foreach (var d in doc.RootElement.EnumerateArray())
            {
                if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out int size) || size < 0)
                {
                    throw Invalid(file, name, $"has logical shape \"{text}\"; sizes must be non-negative integers");
                }
                count *= size;
                if (count > int.MaxValue) throw Invalid(file, name, $"has logical shape \"{text}\", more than {int.MaxValue} elements");
                dims.Add(size);
            }
            return Shape.FromList(dims);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Safetensors file '{file.Source}': quantized weight '{name}' has logical shape \"{text}\", which is not JSON: {e.Message}", e);
        }
    }

    private static InvalidDataException Invalid(SafeTensorsFile file, string name, string problem) =>
        new($"Safetensors file '{file.Source}': quantized weight '{name}' {problem}.");

    private static void CheckShape(Shape shape, int bits)
    {
        if (bits is not (8 or 4)) throw new ArgumentOutOfRangeException(nameof(bits), $"Bit width {bits}; quantized weights are 8- or 4-bit.");
        if (shape.Rank == 0 || shape[0] == 0) throw new ArgumentOutOfRangeException(nameof(shape), $"Shape {shape} has no output channel; a weight is [N, …] with N ≥ 1.");
    }

    private static void CheckScales(ReadOnlySpan<float> scales, int n, string name)
    {
        if (scales.Length != n) throw new ArgumentException($"Scales have length {scales.Length}; expected one per output channel, {n}.", name);
        for (int i = 0; i < n; i++)
        {
            if (!float.IsFinite(scales[i])) throw new ArgumentException($"Scale {i} is {scales[i].ToString(CultureInfo.InvariantCulture)}; scales must be finite.", name);
        }
    }
}
