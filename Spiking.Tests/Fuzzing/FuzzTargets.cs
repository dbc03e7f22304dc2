using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Text;
using Spiking.Cli.Conformance;
using Spiking.Layers;
using Spiking.Layers.Data;
using Spiking.Layers.Serialization;
using Spiking.Tensors;

namespace Spiking.Tests.Fuzzing;

/// <summary>The fuzzing seeds and regression corpus in the source tree (found by walking up to <c>Spiking.sln</c>).</summary>
internal static class FuzzFiles
{
    public static string Folder(string relative)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Spiking.sln"))) dir = dir.Parent;
        if (dir is null) throw new Xunit.Sdk.XunitException($"No directory above {AppContext.BaseDirectory} holds Spiking.sln, so Spiking.Tests/Fuzzing/{relative} cannot be found.");
        return Path.Combine(dir.FullName, "Spiking.Tests", "Fuzzing", relative);
    }

    /// <summary>A temporary folder per target, removed on dispose.</summary>
    public static string NewScratch() => Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "spiking-fuzz-" + Guid.NewGuid().ToString("N"))).FullName;
}

/// <summary>
/// Safetensors: <see cref="SafeTensors.Parse"/> in memory, every parsed entry converted, then
/// <see cref="Checkpoint.Load"/> of the file into a small model with every kind of state-dict entry (a convolution
/// without bias, batch norm with its int64 counter, a linear layer). Clean ends: loaded, or an InvalidDataException.
/// </summary>
internal sealed class SafeTensorsTarget : IFuzzTarget
{
    private static readonly string[] s_dictionary =
    [
        "BOOL", "U8", "I8", "U16", "I16", "F16", "BF16", "U32", "I32", "F32", "U64", "I64", "F64", "F8_E4M3", "f32", "F32 ",
        "0.weight", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked", "3.weight", "3.bias",
        "dtype", "shape", "data_offsets", "__metadata__", "format", "pt",
    ];

    private readonly string _scratch = FuzzFiles.NewScratch();
    private readonly string _path;
    private readonly Sequential _model = Model();

    public SafeTensorsTarget()
    {
        _path = Path.Combine(_scratch, "fuzz.safetensors");
        Checkpoint.Save(_model, _path, new Dictionary<string, string> { ["format"] = "pt" });
        var f32 = File.ReadAllBytes(_path);
        var state = _model.StateDict();
        var f16 = new List<(string, string, int[], byte[])>();
        var mixed = new List<(string, string, int[], byte[])>();
        for (int i = 0; i < state.Count; i++)
        {
            var entry = state[i];
            if (entry.Value is null)
            {
                f16.Add((entry.Name, "I64", [], new byte[8]));
                mixed.Add((entry.Name, "U8", [], [7]));
                continue;
            }
            var values = entry.Value.AsSpan();
            int[] dims = entry.Value.Shape.Dimensions.ToArray();
            var half = new byte[2 * values.Length];
            var other = new byte[(i % 2 == 0 ? 8 : 2) * values.Length];
            for (int k = 0; k < values.Length; k++)
            {
                BinaryPrimitives.WriteHalfLittleEndian(half.AsSpan(2 * k), (Half)values[k]);
                if (i % 2 == 0) BinaryPrimitives.WriteDoubleLittleEndian(other.AsSpan(8 * k), values[k]);
                else BinaryPrimitives.WriteUInt16LittleEndian(other.AsSpan(2 * k), (ushort)(BitConverter.SingleToInt32Bits(values[k]) >> 16));
            }
            f16.Add((entry.Name, "F16", dims, half));
            mixed.Add((entry.Name, i % 2 == 0 ? "F64" : "BF16", dims, other));
        }
        var everyDType = new List<(string, string, int[], byte[])>();
        foreach (var (dtype, size) in new[] { ("BOOL", 1), ("U8", 1), ("I8", 1), ("U16", 2), ("I16", 2), ("F16", 2), ("BF16", 2), ("U32", 4), ("I32", 4), ("F32", 4), ("U64", 8), ("I64", 8), ("F64", 8) })
        {
            everyDType.Add(("t_" + dtype, dtype, [2, 1], Pattern(2 * size)));
        }
        Seeds = [f32, Build(f16, "{\"format\":\"pt\"}"), Build(mixed, null), Build(everyDType, "{\"a\":\"b\",\"c\":\"\"}"), Build([], null)];
    }

    public string Name => "safetensors";

    public IReadOnlyList<byte[]> Seeds { get; }

    /// <summary>The model every checkpoint is loaded into.</summary>
    public static Sequential Model() => new(
        new Conv2d(1, 2, 3, bias: false),
        new BatchNorm2d(2),
        new Flatten(),
        new Linear(8, 3));

    public byte[] MutateFormat(byte[] input, Random rng)
    {
        if (input.Length < 8) return Mutator.Mutate(input, rng, Seeds);
        ulong declared = BinaryPrimitives.ReadUInt64LittleEndian(input);
        int n = declared <= (ulong)(input.Length - 8) ? (int)declared : input.Length - 8;
        var header = input[8..(8 + n)];
        var data = input[(8 + n)..];
        switch (rng.Next(5))
        {
            case 0:
            {
                // The header length itself: off by one, past the end, the 100 MB limit, 2^32 too much, huge.
                var r = (byte[])input.Clone();
                ulong[] lengths = [0, 1, (ulong)n - 1, (ulong)n + 1, (ulong)input.Length - 8, (ulong)input.Length - 7, 100_000_000, 100_000_001, (1UL << 32) + (ulong)n, ulong.MaxValue, 1UL << 63];
                BinaryPrimitives.WriteUInt64LittleEndian(r, lengths[rng.Next(lengths.Length)]);
                return r;
            }
            case 1:
                // Data region grown or shrunk under an unchanged header.
                return rng.Next(2) == 0 ? [.. input, .. new byte[1 + rng.Next(16)]] : input[..Math.Max(8 + n, input.Length - 1 - rng.Next(16))];
            default:
            {
                header = JsonMutator.Mutate(header, rng, s_dictionary);
                // Usually keep the length field right (so the mutated header is what gets parsed), padded to 8 as writers do.
                int pad = rng.Next(2) == 0 ? (8 - header.Length % 8) % 8 : 0;
                var r = new byte[8 + header.Length + pad + data.Length];
                ulong length = rng.Next(8) == 0 ? declared : (ulong)(header.Length + pad);
                BinaryPrimitives.WriteUInt64LittleEndian(r, length);
                header.CopyTo(r, 8);
                r.AsSpan(8 + header.Length, pad).Fill((byte)' ');
                data.CopyTo(r, 8 + header.Length + pad);
                return r;
            }
        }
    }

    public FuzzOutcome Run(byte[] input)
    {
        SafeTensorsFile file;
        try
        {
            file = SafeTensors.Parse(input, "fuzz.safetensors");
        }
        catch (InvalidDataException)
        {
            return FuzzOutcome.Rejected;
        }
        foreach (var entry in file.Entries)
        {
            if (entry.IsFloat)
            {
                using var tensor = entry.ToTensor();
            }
            else if (entry.IsInteger)
            {
                entry.CopyTo(new long[entry.Shape.ElementCount]);
            }
        }
        File.WriteAllBytes(_path, input);
        try
        {
            Checkpoint.Load(_model, _path);
            return FuzzOutcome.Accepted;
        }
        catch (InvalidDataException)
        {
            return FuzzOutcome.RefusedDeep;
        }
    }

    public void Dispose()
    {
        _model.Dispose();
        Directory.Delete(_scratch, recursive: true);
    }

    /// <summary>Safetensors bytes of (name, dtype, shape, data) entries in order, with optional metadata JSON.</summary>
    internal static byte[] Build(List<(string Name, string DType, int[] Shape, byte[] Data)> entries, string? metadata)
    {
        var header = new StringBuilder("{");
        long offset = 0;
        foreach (var (name, dtype, shape, data) in entries)
        {
            if (header.Length > 1) header.Append(',');
            header.Append($"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{offset},{offset + data.Length}]}}");
            offset += data.Length;
        }
        if (metadata is not null) header.Append(header.Length > 1 ? "," : "").Append("\"__metadata__\":").Append(metadata);
        header.Append('}');
        while (header.Length % 8 != 0) header.Append(' ');
        var json = Encoding.UTF8.GetBytes(header.ToString());
        var bytes = new List<byte>(new byte[8]);
        BinaryPrimitives.WriteUInt64LittleEndian(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes), (ulong)json.Length);
        bytes.AddRange(json);
        foreach (var entry in entries) bytes.AddRange(entry.Data);
        return [.. bytes];
    }

    private static byte[] Pattern(int length)
    {
        var b = new byte[length];
        for (int i = 0; i < length; i++) b[i] = (byte)(i * 37 + 11);
        return b;
    }
}

/// <summary>
/// IDX: <see cref="IdxFile.ReadImages"/> and <see cref="IdxFile.ReadLabels"/> on a file holding the input, raw or
/// gzipped; seeds include a two-member gzip and a file of zero images. Clean ends: read, or an InvalidDataException.
/// </summary>
internal sealed class IdxTarget : IFuzzTarget
{
    private readonly string _scratch = FuzzFiles.NewScratch();
    private readonly string _path;

    public IdxTarget()
    {
        _path = Path.Combine(_scratch, "fuzz-idx");
        var images = Idx(3, [3, 4, 5], 60);
        var labels = Idx(1, [7], 7);
        var none = Idx(3, [0, 28, 28], 0);
        Seeds = [images, labels, none, Gzip(images, CompressionLevel.Optimal), Gzip(labels, CompressionLevel.Fastest), Gzip(none, CompressionLevel.NoCompression),
            [.. Gzip(images[..9], CompressionLevel.Fastest), .. Gzip(images[9..], CompressionLevel.Optimal)]];
    }

    public string Name => "idx";

    public IReadOnlyList<byte[]> Seeds { get; }

    public byte[] MutateFormat(byte[] input, Random rng)
    {
        bool gzip = input.Length >= 2 && input[0] == 0x1F && input[1] == 0x8B;
        if (!gzip)
        {
            return rng.Next(4) switch
            {
                0 => Gzip(input, (CompressionLevel)rng.Next(4)),
                1 => SetHeaderField(input, rng),
                _ => Mutator.SetInteger(input, rng.Next(Math.Min(input.Length, 16) + 1), rng),
            };
        }
        switch (rng.Next(6))
        {
            case 0:
            case 1:
            {
                // Mutate before compression: the decoded IDX changes, the gzip stays well-formed.
                var inner = TryGunzip(input);
                if (inner is null) return Mutator.Mutate(input, rng, Seeds);
                inner = rng.Next(2) == 0 ? SetHeaderField(inner, rng) : Mutator.Mutate(inner, rng, Seeds);
                return Gzip(inner, (CompressionLevel)rng.Next(4));
            }
            case 2:
            {
                // What follows the last member: garbage, zeros, a lone magic, an empty member, another member.
                byte[][] tails = [Mutator.RandomBytes(rng, 1 + rng.Next(32)), new byte[1 + rng.Next(32)], [0x1F], [0x1F, 0x8B], [0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 0],
                    Gzip([], CompressionLevel.Fastest), Gzip(Mutator.RandomBytes(rng, rng.Next(8)), CompressionLevel.Fastest), input];
                return [.. input, .. tails[rng.Next(tails.Length)]];
            }
            case 3:
            {
                // The trailer: CRC-32 and ISIZE.
                var r = (byte[])input.Clone();
                if (r.Length >= 8) return Mutator.SetInteger(r, r.Length - 8 + rng.Next(8), rng);
                return r;
            }
            case 4:
            {
                // The member header: method byte, flags (FTEXT, FHCRC, FEXTRA, FNAME, FCOMMENT, reserved), OS.
                var r = (byte[])input.Clone();
                if (r.Length < 10) return r;
                int[] at = [2, 3, 3, 3, 9, 8];
                int i = at[rng.Next(at.Length)];
                r[i] = i == 3 ? (byte)(1 << rng.Next(8)) : (byte)rng.Next(256);
                return r;
            }
            default:
                return Mutator.SetInteger(input, 10 + rng.Next(Math.Max(1, input.Length - 18)), rng);
        }
    }

    public FuzzOutcome Run(byte[] input)
    {
        File.WriteAllBytes(_path, input);
        bool read = false;
        try
        {
            var images = IdxFile.ReadImages(_path);
            read = images.Pixels.Length == (long)images.Count * images.Rows * images.Columns;
            if (!read) throw new InvalidOperationException($"images [{images.Count}, {images.Rows}, {images.Columns}] hold {images.Pixels.Length} bytes");
        }
        catch (InvalidDataException)
        {
        }
        try
        {
            IdxFile.ReadLabels(_path);
            read = true;
        }
        catch (InvalidDataException)
        {
        }
        return read ? FuzzOutcome.Accepted : FuzzOutcome.Rejected;
    }

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    internal static byte[] Idx(byte rank, int[] dims, int payload)
    {
        var bytes = new byte[4 + 4 * dims.Length + payload];
        bytes[2] = 0x08;
        bytes[3] = rank;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        for (int i = 0; i < payload; i++) bytes[4 + 4 * dims.Length + i] = (byte)(i * 31 + 5);
        return bytes;
    }

    internal static byte[] Gzip(byte[] data, CompressionLevel level)
    {
        using var output = new MemoryStream();
        using (var gz = new GZipStream(output, level)) gz.Write(data);
        return output.ToArray();
    }

    // The magic's type and rank bytes, or one dimension set to a boundary (zero, one, negative, past an array, the real size ± 1).
    private static byte[] SetHeaderField(byte[] input, Random rng)
    {
        var r = (byte[])input.Clone();
        if (r.Length < 8) return r;
        if (rng.Next(3) == 0)
        {
            byte[] types = [0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x00, 0xFF];
            if (rng.Next(2) == 0) r[2] = types[rng.Next(types.Length)];
            else r[3] = (byte)(rng.Next(6) == 0 ? rng.Next(256) : rng.Next(5));
            return r;
        }
        int dims = Math.Min((r.Length - 4) / 4, 3);
        int at = 4 + 4 * rng.Next(dims);
        int current = BinaryPrimitives.ReadInt32BigEndian(r.AsSpan(at));
        int[] values = [0, 1, -1, int.MaxValue, int.MinValue, 65536, 46341, 0x7FFFFFC7, current + 1, current - 1, current * 2, 1 << 20];
        BinaryPrimitives.WriteInt32BigEndian(r.AsSpan(at), values[rng.Next(values.Length)]);
        return r;
    }

    private static byte[]? TryGunzip(byte[] input)
    {
        try
        {
            using var gz = new GZipStream(new MemoryStream(input), CompressionMode.Decompress);
            var buffer = new byte[64 << 10];
            int n = gz.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            return buffer[..n];
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }
}

/// <summary>
/// Golden JSON: <see cref="ConformanceRunner.Run"/> on a folder holding the input as its one file. Clean ends: a
/// summary (all passed, or some failed), or an InvalidDataException.
/// </summary>
internal sealed class GoldenJsonTarget : IFuzzTarget
{
    private static readonly string[] s_dictionary =
    [
        "surrogate", "neurons", "neurons_more", "tiny_network", "batchnorm", "IFNode", "LIFNode", "ParametricLIFNode", "KLIFNode", "Unknown",
        "ATan", "Erf", "PiecewiseLeakyReLU", "PiecewiseQuadratic", "Rect", "Sigmoid", "SoftSign", "x_seq", "G", "shape", "params", "id", "cases",
        "meta", "family", "node", "T", "B", "C", "tau", "v_threshold", "v_reset", "detach_reset", "decay_input", "alpha", "eps", "momentum", "gamma", "beta",
        "W1", "b1", "W2", "b2", "target", "binary_input", "lif_params", "running_mean_before", "running_var_before", "spike_seq", "v_seq", "grad_x_seq",
    ];

    private readonly string _scratch = FuzzFiles.NewScratch();
    private readonly string _path;

    public GoldenJsonTarget()
    {
        _path = Path.Combine(_scratch, "case.json");
        var folder = FuzzFiles.Folder(Path.Combine("Seeds", "golden"));
        var files = Directory.GetFiles(folder, "*.json");
        Array.Sort(files, StringComparer.Ordinal);
        if (files.Length == 0) throw new Xunit.Sdk.XunitException($"No golden seeds in {folder}.");
        var seeds = new List<byte[]>();
        foreach (var f in files) seeds.Add(File.ReadAllBytes(f));
        Seeds = seeds;
    }

    public string Name => "golden-json";

    public IReadOnlyList<byte[]> Seeds { get; }

    public byte[] MutateFormat(byte[] input, Random rng) => JsonMutator.Mutate(input, rng, s_dictionary);

    public FuzzOutcome Run(byte[] input)
    {
        File.WriteAllBytes(_path, input);
        try
        {
            var summary = ConformanceRunner.Run(_scratch, TextWriter.Null);
            return summary.Failed == 0 && summary.Passed > 0 ? FuzzOutcome.Accepted : FuzzOutcome.RefusedDeep;
        }
        catch (InvalidDataException)
        {
            return FuzzOutcome.Rejected;
        }
    }

    public void Dispose() => Directory.Delete(_scratch, recursive: true);
}
