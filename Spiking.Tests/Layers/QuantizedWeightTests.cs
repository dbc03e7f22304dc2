using System;
using System.IO;
using System.Linq;
using FsCheck.Xunit;
using Spiking.Layers.Quantization;
using Spiking.Layers.Serialization;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;
using Xunit;

namespace Spiking.Tests.Layers;

/// <summary>The packed quantized weight and its safetensors form: round trips, the documented layout, sizes, refusals.</summary>
public sealed class QuantizedWeightTests
{
    private static SafeTensorsFile Save(Action<SafeTensorsWriter> add, string source = "mem.safetensors")
    {
        var writer = new SafeTensorsWriter();
        add(writer);
        using var stream = new MemoryStream();
        writer.WriteTo(stream);
        return SafeTensors.Parse(stream.ToArray(), source);
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 40)]
    public void A_weight_survives_a_file_round_trip_and_runs_the_same(QuantizedCase c)
    {
        var codes = c.Codes();
        var scales = c.Scales();
        var weight = QuantizedWeight.FromCodes(codes, new Shape(c.N, c.K), c.Bits, scales);
        var file = Save(w => weight.AddTo(w, "blocks.0.mlp.fc1.weight"));
        Assert.Equal(new[] { "blocks.0.mlp.fc1.weight" }, QuantizedWeight.Names(file));
        var read = QuantizedWeight.Read(file, "blocks.0.mlp.fc1.weight");
        Assert.Equal(c.Bits, read.Bits);
        Assert.Equal(new Shape(c.N, c.K), read.Shape);
        Assert.Equal(codes, read.Codes());
        Reference.AssertBitwise(scales, read.Scales.Span, "scales read back");

        var counts = c.Counts();
        var expected = new float[c.M * c.N];
        var actual = new float[c.M * c.N];
        QuantizedLinearKernel.FromInt8(codes, c.N, c.K, scales).Forward(counts, c.M, expected);
        read.ToLinearKernel().Forward(counts, c.M, actual);
        Reference.AssertBitwise(expected, actual, "outputs of the kernel prepared from the read weight");
    }

    /// <summary>A 4-bit conv weight of odd row length, written beside a float bias: the entries and keys the format documents.</summary>
    [Fact]
    public void The_file_holds_codes_scales_and_metadata_as_documented()
    {
        // [2, 1, 1, 3]: rows of K = 3 codes, so each row is 2 bytes with a zero padding nibble.
        sbyte[] codes = [1, -2, 7, -8, 0, 3];
        float[] scales = [0.5f, 0.25f];
        var weight = QuantizedWeight.FromCodes(codes, new Shape(2, 1, 1, 3), 4, scales);
        var file = Save(w =>
        {
            weight.AddTo(w, "conv.weight");
            w.Add("conv.bias", new float[] { 1f, 2f }, new Shape(2));
        });
        var entry = file["conv.weight.codes"];
        Assert.Equal(SafeTensorsDType.U8, entry.DType);
        Assert.Equal(new Shape(2, 2), entry.Shape);
        Assert.Equal(new byte[] { 0xE1, 0x07, 0x08, 0x03 }, entry.Data.ToArray());
        Assert.Equal(SafeTensorsDType.F32, file["conv.weight.scale"].DType);
        Assert.Equal(new Shape(2), file["conv.weight.scale"].Shape);
        Assert.Equal("4", file.Metadata["conv.weight.bits"]);
        Assert.Equal("[2,1,1,3]", file.Metadata["conv.weight.shape"]);
        Assert.Equal(new[] { "conv.weight" }, QuantizedWeight.Names(file));
        var w = QuantizedWeight.Read(file, "conv.weight").Dequantize();
        Assert.Equal(new float[] { 0.5f, -1f, 3.5f, -2f, 0f, 0.75f }, w.AsReadOnlySpan().ToArray());
    }

    /// <summary>A file assembled by hand from the documented layout, as another tool would write it, reads back.</summary>
    [Fact]
    public void A_hand_built_file_in_the_documented_layout_is_read()
    {
        string header = "{\"__metadata__\":{\"fc.bits\":\"8\",\"fc.shape\":\"[2,2]\"},"
            + "\"fc.codes\":{\"dtype\":\"I8\",\"shape\":[2,2],\"data_offsets\":[0,4]},"
            + "\"fc.scale\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        var bytes = SafeTensorsBytes.Build(header, SafeTensorsBytes.Concat([0x7F, 0x80, 0xFF, 0x01], SafeTensorsBytes.Le(2f, -1f)));
        var weight = QuantizedWeight.Read(SafeTensors.Parse(bytes, "hand"), "fc");
        Assert.Equal(new sbyte[] { 127, -128, -1, 1 }, weight.Codes());
        Assert.Equal(new float[] { 254f, -256f, 1f, -1f }, weight.Dequantize().AsReadOnlySpan().ToArray());
    }

    /// <summary>A realistic layer (an MLP projection of a small spiking transformer, 1536×384) as a 4-bit file is over 6× smaller than as float.</summary>
    [Theory]
    [InlineData(4, 6.0)]
    [InlineData(8, 3.5)]
    public void A_quantized_file_is_much_smaller_than_the_float_one(int bits, double factor)
    {
        var c = new QuantizedCase(M: 1, K: 384, N: 1536, Bits: bits, MaxCount: 4, Rate: 0.3, Seed: 5);
        var weight = QuantizedWeight.FromCodes(c.Codes(), new Shape(c.N, c.K), bits, c.Scales());
        long quantized = Length(w => weight.AddTo(w, "mlp.fc1.weight"));
        using var dense = weight.Dequantize();
        long floats = Length(w => w.Add("mlp.fc1.weight", dense));
        Assert.True(floats >= factor * quantized, $"float file {floats} bytes, {bits}-bit file {quantized} bytes: ratio {(double)floats / quantized:F2} < {factor}");
        Assert.Equal((long)c.N * c.K * bits / 8 + 4L * c.N, weight.ByteCount);

        static long Length(Action<SafeTensorsWriter> add)
        {
            var writer = new SafeTensorsWriter();
            add(writer);
            using var stream = new MemoryStream();
            writer.WriteTo(stream);
            return stream.Length;
        }
    }

    private static readonly sbyte[] s_codes = [1, -2, 7, -8, 0, 3];

    /// <summary>Writes the 4-bit [2, 3] weight "w", then lets <paramref name="spoil"/> add or replace entries and keys.</summary>
    private static SafeTensorsFile Spoiled(Action<SafeTensorsWriter> spoil, bool codes = true, bool scale = true)
    {
        var weight = QuantizedWeight.FromCodes(s_codes, new Shape(2, 3), 4, [1f, 2f]);
        return Save(w =>
        {
            if (codes) w.Add("w.codes", weight.Data, new Shape(2, 2), SafeTensorsDType.U8);
            if (scale) w.Add("w.scale", weight.Scales, new Shape(2));
            w.AddMetadata("w.bits", "4");
            w.AddMetadata("w.shape", "[2,3]");
            spoil(w);
        }, "spoiled.safetensors");
    }

    [Theory]
    [InlineData("bits", "bit width \"3\"")]
    [InlineData("shape-json", "is not JSON")]
    [InlineData("shape-negative", "non-negative integers")]
    [InlineData("shape-mismatch", "stored as U8[2, 3], but 'w.codes' is U8[2, 2]")]
    [InlineData("codes-dtype", "'w.codes' is I8[2, 2]")]
    [InlineData("codes-missing", "lacks the entry 'w.codes'")]
    [InlineData("scale-missing", "lacks the entry 'w.scale'")]
    [InlineData("scale-shape", "expected F32[2]")]
    [InlineData("scale-nan", "scale 1 is NaN")]
    [InlineData("padding", "row 1 of 'w.codes' ends in a non-zero padding nibble")]
    public void A_malformed_weight_is_refused_naming_the_file_the_weight_and_the_problem(string spoil, string message)
    {
        var file = spoil switch
        {
            "bits" => Spoiled(w => w.AddMetadata("w.bits", "3")),
            "shape-json" => Spoiled(w => w.AddMetadata("w.shape", "[2,3")),
            "shape-negative" => Spoiled(w => w.AddMetadata("w.shape", "[2,-3]")),
            "shape-mismatch" => Spoiled(w => w.AddMetadata("w.shape", "[2,5]")),
            "codes-dtype" => Spoiled(w => w.Add("w.codes", new byte[4], new Shape(2, 2), SafeTensorsDType.I8), codes: false),
            "codes-missing" => Spoiled(_ => { }, codes: false),
            "scale-missing" => Spoiled(_ => { }, scale: false),
            "scale-shape" => Spoiled(w => w.Add("w.scale", new float[3], new Shape(3)), scale: false),
            "scale-nan" => Spoiled(w => w.Add("w.scale", new[] { 1f, float.NaN }, new Shape(2)), scale: false),
            _ => Spoiled(w => w.Add("w.codes", new byte[] { 0xE1, 0x07, 0x08, 0x53 }, new Shape(2, 2), SafeTensorsDType.U8), codes: false),
        };
        var e = Assert.Throws<InvalidDataException>(() => QuantizedWeight.Read(file, "w"));
        Assert.Contains("'spoiled.safetensors'", e.Message, StringComparison.Ordinal);
        Assert.Contains("quantized weight 'w'", e.Message, StringComparison.Ordinal);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_weight_without_metadata_is_refused()
    {
        var file = Save(w => w.Add("w.codes", new byte[4], new Shape(2, 2), SafeTensorsDType.I8));
        var e = Assert.Throws<InvalidDataException>(() => QuantizedWeight.Read(file, "w"));
        Assert.Contains("no metadata key 'w.bits'", e.Message, StringComparison.Ordinal);
        Assert.Empty(QuantizedWeight.Names(file));
    }

    [Fact]
    public void Codes_out_of_range_and_bad_scales_are_refused_when_building()
    {
        var range = Assert.Throws<ArgumentOutOfRangeException>(() => QuantizedWeight.FromCodes(new sbyte[] { 0, 9 }, new Shape(1, 2), 4, [1f]));
        Assert.Contains("[0, 1] is 9", range.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => QuantizedWeight.FromCodes(new sbyte[2], new Shape(1, 2), 3, [1f]));
        var scales = Assert.Throws<ArgumentException>(() => QuantizedWeight.FromCodes(new sbyte[2], new Shape(1, 2), 8, [1f, 2f]));
        Assert.Equal("scales", scales.ParamName);
        Assert.Throws<ArgumentException>(() => QuantizedWeight.FromCodes(new sbyte[2], new Shape(1, 2), 8, [float.PositiveInfinity]));
    }

    [Fact]
    public void The_writer_stores_bytes_only_as_one_byte_dtypes()
    {
        var writer = new SafeTensorsWriter();
        var e = Assert.Throws<ArgumentException>(() => writer.Add("x", new byte[4], new Shape(4), SafeTensorsDType.F32));
        Assert.Contains("U8, I8 or BOOL", e.Message, StringComparison.Ordinal);
        var file = Save(w => w.Add("x", new byte[] { 0xFF, 0x02 }, new Shape(2), SafeTensorsDType.I8));
        var values = new long[2];
        file["x"].CopyTo(values);
        Assert.Equal(new long[] { -1, 2 }, values);
    }

    [Fact]
    public void A_conv_weight_prepares_conv_kernels_and_refuses_the_wrong_rank()
    {
        var c = new QuantizedConvCase(Images: 1, Channels: 3, Height: 6, Width: 6, OutChannels: 4, KernelHeight: 3, KernelWidth: 3, Stride: 1, Padding: 1, Bits: 4, MaxCount: 4, Seed: 2);
        var codes = c.Codes(4, 27);
        var weight = QuantizedWeight.FromCodes(codes, new Shape(4, 3, 3, 3), 4, c.Scales(4));
        var counts = c.Counts();
        var expected = new float[4 * 36];
        var actual = new float[4 * 36];
        QuantizedConvKernel.FromInt8(codes, 4, 3, 3, 3, 1, 1, c.Scales(4)).Forward(counts, 1, 6, 6, expected);
        weight.ToConvKernel(stride: 1, padding: 1).Forward(counts, 1, 6, 6, actual);
        Reference.AssertBitwise(expected, actual, "conv kernel from the packed weight");
        var e = Assert.Throws<InvalidOperationException>(() => weight.ToDepthwiseConvKernel(1, 1));
        Assert.Contains("[4, 3, 3, 3]", e.Message, StringComparison.Ordinal);
        var linear = QuantizedWeight.FromCodes(new sbyte[6], new Shape(2, 3), 8, [1f, 1f]);
        Assert.Throws<InvalidOperationException>(() => linear.ToConvKernel(1, 0));
    }
}
