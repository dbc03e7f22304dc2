using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using Spiking.Layers.Serialization;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Layers;

/// <summary>Safetensors bytes assembled by hand from a header string and data bytes, independently of the library.</summary>
internal static class SafeTensorsBytes
{
    /// <summary>u64 LE length, the header padded with spaces to a multiple of 8, then the data.</summary>
    public static byte[] Build(string header, byte[] data, bool pad = true)
    {
        var h = new List<byte>(Encoding.UTF8.GetBytes(header));
        while (pad && h.Count % 8 != 0) h.Add((byte)' ');
        var bytes = new List<byte>();
        ulong n = (ulong)h.Count;
        for (int i = 0; i < 8; i++) bytes.Add((byte)(n >> (8 * i)));
        bytes.AddRange(h);
        bytes.AddRange(data);
        return bytes.ToArray();
    }

    public static byte[] Le(params float[] values)
    {
        var bytes = new List<byte>();
        foreach (float v in values)
        {
            uint bits = BitConverter.SingleToUInt32Bits(v);
            for (int i = 0; i < 4; i++) bytes.Add((byte)(bits >> (8 * i)));
        }
        return bytes.ToArray();
    }

    public static byte[] Le(params long[] values)
    {
        var bytes = new List<byte>();
        foreach (long v in values)
        {
            for (int i = 0; i < 8; i++) bytes.Add((byte)((ulong)v >> (8 * i)));
        }
        return bytes.ToArray();
    }

    public static byte[] Le(params double[] values)
    {
        var longs = new long[values.Length];
        for (int i = 0; i < values.Length; i++) longs[i] = BitConverter.DoubleToInt64Bits(values[i]);
        return Le(longs);
    }

    public static byte[] Concat(params byte[][] parts)
    {
        var all = new List<byte>();
        foreach (var p in parts) all.AddRange(p);
        return all.ToArray();
    }
}

public sealed class SafeTensorsTests
{
    private static byte[] Written(SafeTensorsWriter writer)
    {
        using var stream = new MemoryStream();
        writer.WriteTo(stream);
        return stream.ToArray();
    }

    [Fact]
    public void A_hand_built_file_as_the_PyTorch_peer_writes_it_reads_back()
    {
        // common.py: sorted names, json.dumps(separators=(",", ":")), space padding, no metadata.
        const string header = "{\"0.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]}," +
                              "\"0.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[8,32]}}";
        var bytes = SafeTensorsBytes.Build(header, SafeTensorsBytes.Concat(SafeTensorsBytes.Le(42L), SafeTensorsBytes.Le(1f, -2.5f, 3e-8f, float.MaxValue, -0f, 7f)));
        var file = SafeTensors.Parse(bytes, "peer.safetensors");
        Assert.Equal(2, file.Entries.Count);
        Assert.Empty(file.Metadata);
        var counter = file["0.num_batches_tracked"];
        Assert.Equal((SafeTensorsDType.I64, new Shape()), (counter.DType, counter.Shape));
        var n = new long[1];
        counter.CopyTo(n);
        Assert.Equal(42L, n[0]);
        var weight = file["0.weight"];
        Assert.Equal((SafeTensorsDType.F32, new Shape(2, 3)), (weight.DType, weight.Shape));
        using var t = weight.ToTensor();
        Reference.AssertBitwise(new[] { 1f, -2.5f, 3e-8f, float.MaxValue, -0f, 7f }, t.AsReadOnlySpan(), "weight");
    }

    [Fact]
    public void The_writer_produces_exactly_the_spec_bytes()
    {
        var writer = new SafeTensorsWriter();
        writer.AddMetadata("format", "pt");
        writer.Add("w", new float[] { 1f, 2f, -3f, 0.5f }, new Shape(2, 2));
        writer.Add("n", 5L);
        writer.Add("e", Array.Empty<float>(), new Shape(0, 3));
        const string header = "{\"__metadata__\":{\"format\":\"pt\"}," +
                              "\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}," +
                              "\"n\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[16,24]}," +
                              "\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[24,24]}}";
        var expected = SafeTensorsBytes.Build(header, SafeTensorsBytes.Concat(SafeTensorsBytes.Le(1f, 2f, -3f, 0.5f), SafeTensorsBytes.Le(5L)));
        Assert.Equal(expected, Written(writer));
    }

    [Fact]
    public void The_header_is_padded_with_spaces_to_a_multiple_of_8()
    {
        for (int nameLength = 1; nameLength <= 12; nameLength++)
        {
            var writer = new SafeTensorsWriter();
            writer.Add(new string('x', nameLength), new float[] { 1f }, new Shape(1));
            var bytes = Written(writer);
            long n = BitConverter.ToInt64(bytes, 0);
            Assert.Equal(0, n % 8);
            string header = Encoding.UTF8.GetString(bytes, 8, (int)n);
            Assert.EndsWith("}", header.TrimEnd(' '), StringComparison.Ordinal);
            Assert.True(header.TrimEnd(' ').Length > n - 8, $"at most 7 padding spaces, got {header}");
            Assert.Equal(8 + n + 4, bytes.Length);
            Assert.Equal(1f, BitConverter.ToSingle(bytes, (int)(8 + n)));
        }
    }

    [Fact]
    public void F32_and_I64_round_trip_with_metadata_and_names_needing_escapes()
    {
        var rng = new Random(3);
        var shapes = new[] { new Shape(), new Shape(5), new Shape(3, 4), new Shape(2, 0, 3), new Shape(2, 3, 4, 5) };
        var writer = new SafeTensorsWriter();
        var floats = new List<float[]>();
        for (int s = 0; s < shapes.Length; s++)
        {
            var values = new float[shapes[s].ElementCount];
            for (int i = 0; i < values.Length; i++) values[i] = (float)(rng.NextDouble() * 200 - 100);
            floats.Add(values);
            writer.Add($"layer.{s}.weight", values, shapes[s]);
        }
        using var tensor = Tensor.FromArray(new float[] { float.NaN, float.PositiveInfinity, -1e-40f }, 3);
        writer.Add("blocks.0.\"odd\\name\" é", tensor);
        writer.Add("counts", new long[] { long.MinValue, -1, 0, long.MaxValue }, new Shape(2, 2));
        writer.AddMetadata("epoch", "12");
        writer.AddMetadata("note", "naïve \"quoted\"\n");
        using var dir = new TempFolder();
        string path = dir.File("model.safetensors");
        writer.Save(path);

        var file = SafeTensors.Read(path);
        Assert.Equal(path, file.Source);
        Assert.Equal(shapes.Length + 2, file.Entries.Count);
        for (int s = 0; s < shapes.Length; s++)
        {
            var e = file.Entries[s];
            Assert.Equal($"layer.{s}.weight", e.Name);
            Assert.Equal(shapes[s], e.Shape);
            var back = new float[shapes[s].ElementCount];
            e.CopyTo(back);
            Reference.AssertBitwise(floats[s], back, e.Name);
        }
        var odd = new float[3];
        file["blocks.0.\"odd\\name\" é"].CopyTo(odd);
        Reference.AssertBitwise(tensor.AsReadOnlySpan(), odd, "odd");
        var counts = new long[4];
        file["counts"].CopyTo(counts);
        Assert.Equal(new[] { long.MinValue, -1, 0, long.MaxValue }, counts);
        Assert.Equal(new Shape(2, 2), file["counts"].Shape);
        Assert.Equal("12", file.Metadata["epoch"]);
        Assert.Equal("naïve \"quoted\"\n", file.Metadata["note"]);
    }

    [Fact]
    public void F64_F16_BF16_and_I32_entries_convert()
    {
        const string header = "{\"d\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]}," +
                              "\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[16,20]}," +
                              "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[20,24]}," +
                              "\"i\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[24,32]}}";
        // F16 1.0 = 0x3C00, -2.0 = 0xC000; BF16 1.0 = 0x3F80, -0.15625 = 0xBE20; I32 -7, 65536.
        byte[] data = SafeTensorsBytes.Concat(
            SafeTensorsBytes.Le(0.1, -1e300),
            [0x00, 0x3C, 0x00, 0xC0],
            [0x80, 0x3F, 0x20, 0xBE],
            [0xF9, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x01, 0x00]);
        var file = SafeTensors.Parse(SafeTensorsBytes.Build(header, data), "mixed");
        var f = new float[2];
        file["d"].CopyTo(f);
        Assert.Equal(new[] { 0.1f, float.NegativeInfinity }, f);
        file["h"].CopyTo(f);
        Assert.Equal(new[] { 1f, -2f }, f);
        file["b"].CopyTo(f);
        Assert.Equal(new[] { 1f, -0.15625f }, f);
        var l = new long[2];
        file["i"].CopyTo(l);
        Assert.Equal(new[] { -7L, 65536L }, l);
        var e = Assert.Throws<InvalidOperationException>(() => file["i"].CopyTo(f));
        Assert.Contains("'i'", e.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => file["d"].CopyTo(l));
        Assert.Throws<ArgumentException>("destination", () => file["d"].CopyTo(new float[3]));
    }

    public static TheoryData<string, string, string[]> Malformed() => new()
    {
        { "short", "", new[] { "7 bytes long" } },
        { "length", "", new[] { "1000-byte header", "only 8 bytes follow" } },
        { "json", "{\"a\":{\"dtype\":\"F32\",", new[] { "not well-formed JSON" } },
        { "trailing", "{} x", new[] { "not well-formed JSON" } },
        { "array", "[]", new[] { "not a JSON object" } },
        { "dtype", "{\"w\":{\"dtype\":\"F8\",\"shape\":[1],\"data_offsets\":[0,4]}}", new[] { "'w'", "\"F8\"" } },
        { "lacks", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", new[] { "'w'", "lacks data_offsets" } },
        { "size", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", new[] { "'w'", "F32[2]", "8 bytes", "span 4" } },
        { "offsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4]}}", new[] { "'w'", "[begin, end]" } },
        { "negative", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", new[] { "'w'", "shape holds -1" } },
        { "overlap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[2,6]}}", new[] { "'b'", "overlap" } },
        { "gap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new[] { "'a'", "gap" } },
        { "past", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", new[] { "'a'", "past the 8-byte data region" } },
        { "uncovered", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new[] { "cover 4 bytes", "holds 8" } },
        { "twice", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new[] { "'a' twice" } },
        { "metadata", "{\"__metadata__\":{\"k\":1},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", new[] { "'k'", "must be strings" } },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_files_are_rejected_naming_the_file_and_tensor(string name, string header, string[] fragments)
    {
        byte[] bytes = name switch
        {
            "short" => new byte[7],
            "length" => SafeTensorsBytes.Concat(SafeTensorsBytes.Le(1000L), new byte[8]),
            _ => SafeTensorsBytes.Build(header, new byte[8]),
        };
        using var dir = new TempFolder();
        string path = dir.File(name + ".safetensors");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Read(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        foreach (string fragment in fragments) Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        using var dir = new TempFolder();
        var e = Assert.Throws<FileNotFoundException>(() => SafeTensors.Read(dir.File("none.safetensors")));
        Assert.Contains(dir.File("none.safetensors"), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Saving_replaces_the_target_through_a_temporary_that_never_remains()
    {
        using var dir = new TempFolder();
        string path = dir.File("ckpt.safetensors");
        var first = new SafeTensorsWriter();
        first.Add("a", new float[] { 1f }, new Shape(1));
        first.Save(path);
        byte[] original = File.ReadAllBytes(path);
        Assert.Equal(new[] { "ckpt.safetensors" }, dir.Names());

        var second = new SafeTensorsWriter();
        second.Add("a", new float[] { 2f, 3f }, new Shape(2));
        second.Save(path);
        Assert.Equal(new[] { "ckpt.safetensors" }, dir.Names());
        Assert.Equal(new Shape(2), SafeTensors.Read(path)["a"].Shape);

        var failing = new SafeTensorsWriter();
        failing.Add("a", new float[] { 9f }, new Shape(1));
        var tensor = Tensor.Zeros(4);
        failing.Add("b", tensor);
        tensor.Dispose();
        Assert.Throws<ObjectDisposedException>(() => failing.Save(path));
        Assert.Equal(new[] { "ckpt.safetensors" }, dir.Names());
        Assert.Equal(new Shape(2), SafeTensors.Read(path)["a"].Shape);
        Assert.NotEqual(original, File.ReadAllBytes(path));

        var e = Assert.Throws<DirectoryNotFoundException>(() => first.Save(dir.File("absent/ckpt.safetensors")));
        Assert.Contains("absent", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_writer_rejects_bad_names_and_counts()
    {
        var writer = new SafeTensorsWriter();
        writer.Add("a", 1L);
        Assert.Contains("'a' was already added", Assert.Throws<ArgumentException>("name", () => writer.Add("a", 2L)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>("name", () => writer.Add("__metadata__", 2L));
        Assert.Throws<ArgumentException>("name", () => writer.Add("", 2L));
        var e = Assert.Throws<ArgumentException>("values", () => writer.Add("c", new float[5], new Shape(2, 3)));
        Assert.Contains("5 values", e.Message, StringComparison.Ordinal);
        Assert.Contains("[2, 3]", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, writer.Count);
    }
}
