using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;

namespace Spiking.Layers.Data;

/// <summary>
/// Reads the IDX files of MNIST and Fashion-MNIST: a big-endian magic <c>0x0000 08 nd</c> (unsigned bytes, nd
/// dimensions), nd big-endian int32 sizes, then the bytes. Files may be gzipped; that is detected from the gzip
/// magic <c>1f 8b</c>, not from the name.
/// </summary>
/// <remarks>
/// Every problem raises <see cref="FileNotFoundException"/> or <see cref="InvalidDataException"/> whose message
/// names the file, what was expected and what was found, and says how to get the data (<see cref="DataHint"/>).
/// </remarks>
public static class IdxFile
{
    /// <summary>The magic of an unsigned-byte IDX file with three dimensions (images).</summary>
    public const int ImagesMagic = 0x00000803;

    /// <summary>The magic of an unsigned-byte IDX file with one dimension (labels).</summary>
    public const int LabelsMagic = 0x00000801;

    /// <summary>How to get Fashion-MNIST, appended to every error.</summary>
    public const string DataHint =
        "Get Fashion-MNIST with 'apt-get install -y dataset-fashion-mnist' (files under " + ImageDataset.DefaultFashionMnistDirectory +
        "), set " + ImageDataset.DirectoryVariable + ", or pass '--data DIR' with a folder of IDX files.";

    /// <summary>Reads an image file (magic <see cref="ImagesMagic"/>: count, rows, columns).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a well-formed unsigned-byte 3-D IDX file.</exception>
    public static IdxImages ReadImages(string path)
    {
        var (data, dims) = Read(path, ImagesMagic, "images");
        return new IdxImages(data, dims[0], dims[1], dims[2]);
    }

    /// <summary>Reads a label file (magic <see cref="LabelsMagic"/>: count).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a well-formed unsigned-byte 1-D IDX file.</exception>
    public static byte[] ReadLabels(string path) => Read(path, LabelsMagic, "labels").Data;

    private static (byte[] Data, int[] Dims) Read(string path, int magic, string kind)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] file = ReadDecompressed(path);
        int rank = magic & 0xFF;
        int headerLength = 4 + 4 * rank;
        if (file.Length < headerLength)
        {
            throw Invalid(path, $"is {file.Length} bytes long, shorter than the {headerLength}-byte header of an IDX {kind} file (magic 0x{magic:X8})");
        }
        int found = BinaryPrimitives.ReadInt32BigEndian(file);
        if (found != magic)
        {
            throw Invalid(path, $"has magic 0x{found:X8}; IDX {kind} need 0x{magic:X8} (unsigned bytes, {rank} dimension{(rank == 1 ? "" : "s")})");
        }
        var dims = new int[rank];
        long expected = 1;
        for (int i = 0; i < rank; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(4 + 4 * i));
            if (dims[i] < 0) throw Invalid(path, $"has a negative size {dims[i]} in dimension {i}");
            expected *= dims[i];
            if (expected > Array.MaxLength) throw Invalid(path, $"declares sizes [{string.Join(", ", dims[..(i + 1)])}], more bytes than an array holds");
        }
        long payload = file.Length - headerLength;
        if (payload != expected)
        {
            throw Invalid(path,
                $"declares {kind} of sizes [{string.Join(", ", dims)}], {expected} bytes after the {headerLength}-byte header, but holds {payload} " +
                (payload < expected ? "(truncated)" : "(trailing bytes)"));
        }
        return (file.AsSpan(headerLength).ToArray(), dims);
    }

    private static byte[] ReadDecompressed(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"IDX file '{path}' does not exist. {DataHint}", path);
        byte[] raw = File.ReadAllBytes(path);
        if (raw.Length < 2 || raw[0] != 0x1F || raw[1] != 0x8B) return raw;
        try
        {
            using var input = new MemoryStream(raw, writable: false);
            using var gzip = new GZipStream(input, CompressionMode.Decompress);
            using var output = new MemoryStream(raw.Length * 2);
            gzip.CopyTo(output);
            return output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"IDX file '{path}' starts with the gzip magic 1f 8b but does not decompress: {e.Message} {DataHint}", e);
        }
    }

    private static InvalidDataException Invalid(string path, string problem) => new($"IDX file '{path}' {problem}. {DataHint}");
}
