using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;
using Spiking.Layers.IO;

namespace Spiking.Layers.Data;

/// <summary>
/// Reads the IDX files of MNIST and Fashion-MNIST: a big-endian magic <c>0x0000 08 nd</c> (unsigned bytes, nd
/// dimensions), nd big-endian int32 sizes, then the bytes. Files may be gzipped; that is detected from the gzip
/// magic <c>1f 8b</c>, not from the name.
/// </summary>
/// <remarks>
/// Every problem raises <see cref="FileNotFoundException"/> or <see cref="InvalidDataException"/> whose message
/// names the file, what was expected and what was found, and says how to get the data (<see cref="DataHint"/>).
/// Only regular files are read (<see cref="InputFile"/>), never more than the header declares plus one byte, and a
/// gzip file must end where its last gzip member ends.
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

    // Deflate codes a 258-byte match in as little as 2 bits, so a gzip file of n bytes decompresses to at most
    // 1032·n; a header declaring more is refused before its payload is allocated.
    private const long MaxDeflateRatio = 1032;

    // Streams the (decompressed) file: the header first, then the payload straight into one array of the declared
    // size, so loading holds no compressed copy and no second copy of the data (the peak memory a run reports).
    private static (byte[] Data, int[] Dims) Read(string path, int magic, string kind)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = InputFile.OpenRead(path, "IDX file", DataHint);
        long length = file.Length;
        Span<byte> head = stackalloc byte[2];
        bool gzip = file.ReadAtLeast(head, 2, throwOnEndOfStream: false) == 2 && head[0] == 0x1F && head[1] == 0x8B;
        file.Position = 0;
        if (!gzip) return ReadContent(file, length, maxLength: length, path, magic, kind);
        (byte[] Data, int[] Dims) content;
        using (var stream = new GZipStream(file, CompressionMode.Decompress, leaveOpen: true))
        {
            try
            {
                content = ReadContent(stream, rawLength: -1, maxLength: length * MaxDeflateRatio, path, magic, kind);
            }
            catch (InvalidDataException e) when (!e.Message.StartsWith("IDX file", StringComparison.Ordinal))
            {
                throw new InvalidDataException($"IDX file '{path}' starts with the gzip magic 1f 8b but does not decompress: {e.Message} {DataHint}", e);
            }
        }
        if (file.Length != length) throw Invalid(path, $"changed size while it was read (was {length} bytes)");
        CheckGzipEnd(file, length, path, magic, content.Data, content.Dims);
        return content;
    }

    private static (byte[] Data, int[] Dims) ReadContent(Stream stream, long rawLength, long maxLength, string path, int magic, string kind)
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
        if (headerLength + expected > maxLength)
        {
            throw Invalid(path,
                $"declares {kind} of sizes [{string.Join(", ", dims)}], {expected} bytes after the {headerLength}-byte header, more than its " +
                $"{maxLength / MaxDeflateRatio} gzip bytes can decompress to (at most {MaxDeflateRatio}:1): it is truncated or corrupt");
        }
        var data = new byte[expected];
        long payload = stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
        // One byte past the declared payload is enough to call the rest trailing bytes; reading on would let a file
        // that grows, or a gzip bomb after the data, keep the reader busy.
        Span<byte> probe = stackalloc byte[1];
        if (payload == expected) payload += stream.Read(probe);
        if (payload != expected)
        {
            throw Invalid(path,
                $"declares {kind} of sizes [{string.Join(", ", dims)}], {expected} bytes after the {headerLength}-byte header, but holds " +
                (payload < expected ? $"{payload} (truncated)" : "more (trailing bytes)"));
        }
        return (data, dims);
    }

    // .NET's GZipStream decodes concatenated gzip members but stops silently at bytes that do not start another
    // member (and accepts a lone 1f 8b after the last one), so trailing garbage would pass. zlib checks each member's
    // CRC-32 and length trailer against its data, and the last member's trailer is the file's last 8 bytes exactly
    // when nothing follows it: so those 8 bytes must be the CRC-32 and length of a non-empty suffix of the decoded
    // content. (An empty last member is refused too: it cannot be told from 8 trailing zero bytes this way.)
    private static void CheckGzipEnd(FileStream file, long length, string path, int magic, byte[] data, int[] dims)
    {
        Span<byte> trailer = stackalloc byte[8];
        if (length < trailer.Length || RandomAccess.Read(file.SafeFileHandle, trailer, length - trailer.Length) != trailer.Length)
        {
            throw Invalid(path, $"is {length} bytes long, too short for a gzip member's 8-byte trailer");
        }
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        uint size = BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]);
        Span<byte> header = stackalloc byte[4 + 4 * dims.Length];
        BinaryPrimitives.WriteInt32BigEndian(header, magic);
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(header[(4 + 4 * i)..], dims[i]);
        long total = header.Length + (long)data.Length;
        if (size == 0 || size > total || Crc32Of(header, data, total - size) != crc)
        {
            throw Invalid(path,
                "has bytes after its gzip data: its last 8 bytes are not the CRC-32 and length of the data its last gzip member ends with " +
                "(a gzip IDX file must end where its last member ends)");
        }
    }

    // The CRC-32 of gzip (reflected polynomial 0xEDB88320) of header ++ data from offset start on.
    private static uint Crc32Of(ReadOnlySpan<byte> header, ReadOnlySpan<byte> data, long start)
    {
        uint crc = 0xFFFFFFFF;
        var table = s_crcTable;
        for (int i = (int)Math.Min(start, header.Length); i < header.Length; i++) crc = table[(byte)(crc ^ header[i])] ^ (crc >> 8);
        for (int i = (int)Math.Max(0, start - header.Length); i < data.Length; i++) crc = table[(byte)(crc ^ data[i])] ^ (crc >> 8);
        return ~crc;
    }

    private static readonly uint[] s_crcTable = CrcTable();

    private static uint[] CrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }

    private static InvalidDataException Invalid(string path, string problem) => new($"IDX file '{path}' {problem}. {DataHint}");
}
