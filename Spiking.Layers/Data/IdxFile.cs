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

    // Streams the (decompressed) file: the header first, then the payload straight into one array of the declared
    // size, so loading holds no compressed copy and no second copy of the data (the peak memory a run reports).
    private static (byte[] Data, int[] Dims) Read(string path, int magic, string kind)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"IDX file '{path}' does not exist. {DataHint}", path);
        using var file = File.OpenRead(path);
        Span<byte> head = stackalloc byte[2];
        bool gzip = file.ReadAtLeast(head, 2, throwOnEndOfStream: false) == 2 && head[0] == 0x1F && head[1] == 0x8B;
        file.Position = 0;
        using Stream stream = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
        try
        {
            return ReadContent(stream, gzip ? -1 : file.Length, path, magic, kind);
        }
        catch (InvalidDataException e) when (gzip && !e.Message.StartsWith("IDX file", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"IDX file '{path}' starts with the gzip magic 1f 8b but does not decompress: {e.Message} {DataHint}", e);
        }
    }

    private static (byte[] Data, int[] Dims) ReadContent(Stream stream, long rawLength, string path, int magic, string kind)
    {
        int rank = magic & 0xFF;
        int headerLength = 4 + 4 * rank;
        Span<byte> header = stackalloc byte[headerLength];
        int got = stream.ReadAtLeast(header, headerLength, throwOnEndOfStream: false);
        if (got < headerLength)
        {
            throw Invalid(path, $"is {got} bytes long, shorter than the {headerLength}-byte header of an IDX {kind} file (magic 0x{magic:X8})");
        }
        int found = BinaryPrimitives.ReadInt32BigEndian(header);
        if (found != magic)
        {
            throw Invalid(path, $"has magic 0x{found:X8}; IDX {kind} need 0x{magic:X8} (unsigned bytes, {rank} dimension{(rank == 1 ? "" : "s")})");
        }
        var dims = new int[rank];
        long expected = 1;
        for (int i = 0; i < rank; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(header[(4 + 4 * i)..]);
            if (dims[i] < 0) throw Invalid(path, $"has a negative size {dims[i]} in dimension {i}");
            expected *= dims[i];
            if (expected > Array.MaxLength) throw Invalid(path, $"declares sizes [{string.Join(", ", dims[..(i + 1)])}], more bytes than an array holds");
        }
        if (rawLength >= 0 && rawLength - headerLength != expected)
        {
            throw Invalid(path,
                $"declares {kind} of sizes [{string.Join(", ", dims)}], {expected} bytes after the {headerLength}-byte header, but holds {rawLength - headerLength} " +
                (rawLength - headerLength < expected ? "(truncated)" : "(trailing bytes)"));
        }
        var data = new byte[expected];
        long payload = stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
        if (payload == expected)
        {
            Span<byte> probe = stackalloc byte[256];
            long extra;
            while ((extra = stream.Read(probe)) > 0) payload += extra;
        }
        if (payload != expected)
        {
            throw Invalid(path,
                $"declares {kind} of sizes [{string.Join(", ", dims)}], {expected} bytes after the {headerLength}-byte header, but holds {payload} " +
                (payload < expected ? "(truncated)" : "(trailing bytes)"));
        }
        return (data, dims);
    }

    private static InvalidDataException Invalid(string path, string problem) => new($"IDX file '{path}' {problem}. {DataHint}");
}
