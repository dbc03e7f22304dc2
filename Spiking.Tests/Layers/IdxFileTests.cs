using System;
using System.IO;
using System.IO.Compression;
using Spiking.Layers.Data;
using Xunit;

namespace Spiking.Tests.Layers;

public sealed class IdxFileTests
{
    /// <summary>An IDX file built byte by byte: 00 00 08 nd, big-endian sizes, payload.</summary>
    internal static byte[] Idx(byte rank, int[] dims, byte[] payload)
    {
        var bytes = new byte[4 + 4 * dims.Length + payload.Length];
        bytes[2] = 0x08;
        bytes[3] = rank;
        for (int i = 0; i < dims.Length; i++)
        {
            bytes[4 + 4 * i] = (byte)(dims[i] >> 24);
            bytes[5 + 4 * i] = (byte)(dims[i] >> 16);
            bytes[6 + 4 * i] = (byte)(dims[i] >> 8);
            bytes[7 + 4 * i] = (byte)dims[i];
        }
        payload.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    internal static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.Fastest)) gz.Write(data);
        return output.ToArray();
    }

    internal static byte[] Pattern(int length, int salt)
    {
        var b = new byte[length];
        for (int i = 0; i < length; i++) b[i] = (byte)(i * 31 + salt * 7 + (i >> 8));
        return b;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Images_and_labels_round_trip_raw_and_gzipped(bool gzip)
    {
        using var dir = new TempFolder();
        byte[] pixels = Pattern(5 * 3 * 4, 1);
        byte[] labels = [3, 0, 9, 9, 1];
        var images = Idx(3, [5, 3, 4], pixels);
        var labelFile = Idx(1, [5], labels);
        File.WriteAllBytes(dir.File("img"), gzip ? Gzip(images) : images);
        File.WriteAllBytes(dir.File("lbl"), gzip ? Gzip(labelFile) : labelFile);

        var read = IdxFile.ReadImages(dir.File("img"));
        Assert.Equal((5, 3, 4), (read.Count, read.Rows, read.Columns));
        Assert.Equal(pixels, read.Pixels);
        Assert.Equal(labels, IdxFile.ReadLabels(dir.File("lbl")));
    }

    [Fact]
    public void Gzip_is_detected_by_its_magic_not_by_the_name()
    {
        using var dir = new TempFolder();
        byte[] labels = [1, 2, 3];
        File.WriteAllBytes(dir.File("labels"), Gzip(Idx(1, [3], labels)));
        File.WriteAllBytes(dir.File("labels.gz"), Idx(1, [3], labels));
        Assert.Equal(labels, IdxFile.ReadLabels(dir.File("labels")));
        Assert.Equal(labels, IdxFile.ReadLabels(dir.File("labels.gz")));
    }

    [Fact]
    public void Empty_files_read_as_zero_images()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("img"), Idx(3, [0, 28, 28], []));
        var read = IdxFile.ReadImages(dir.File("img"));
        Assert.Equal((0, 28, 28), (read.Count, read.Rows, read.Columns));
        Assert.Empty(read.Pixels);
    }

    [Fact]
    public void A_missing_file_names_the_path_and_how_to_get_the_data()
    {
        using var dir = new TempFolder();
        string path = dir.File("nope-idx3-ubyte");
        var e = Assert.Throws<FileNotFoundException>(() => IdxFile.ReadImages(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        AssertHint(e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_label_file_read_as_images_reports_both_magics(bool gzip)
    {
        using var dir = new TempFolder();
        string path = dir.File("labels");
        var bytes = Idx(1, [16], new byte[16]);
        File.WriteAllBytes(path, gzip ? Gzip(bytes) : bytes);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("0x00000801", e.Message, StringComparison.Ordinal);
        Assert.Contains("0x00000803", e.Message, StringComparison.Ordinal);
        AssertHint(e.Message);
    }

    [Fact]
    public void A_float_idx_file_is_rejected_by_its_magic()
    {
        using var dir = new TempFolder();
        string path = dir.File("floats");
        var bytes = Idx(1, [2], new byte[8]);
        bytes[2] = 0x0D;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadLabels(path));
        Assert.Contains("0x00000D01", e.Message, StringComparison.Ordinal);
        Assert.Contains("0x00000801", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_truncated_payload_reports_declared_and_found_sizes(bool gzip)
    {
        using var dir = new TempFolder();
        string path = dir.File("img");
        var bytes = Idx(3, [4, 5, 6], Pattern(4 * 5 * 6 - 7, 2));
        File.WriteAllBytes(path, gzip ? Gzip(bytes) : bytes);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("[4, 5, 6]", e.Message, StringComparison.Ordinal);
        Assert.Contains("120 bytes", e.Message, StringComparison.Ordinal);
        Assert.Contains("holds 113", e.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
        AssertHint(e.Message);
    }

    [Fact]
    public void Trailing_bytes_are_an_error()
    {
        using var dir = new TempFolder();
        string path = dir.File("lbl");
        File.WriteAllBytes(path, Idx(1, [3], [1, 2, 3, 4]));
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadLabels(path));
        Assert.Contains("3 bytes", e.Message, StringComparison.Ordinal);
        Assert.Contains("holds 4", e.Message, StringComparison.Ordinal);
        Assert.Contains("trailing", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_shorter_than_its_header_is_an_error()
    {
        using var dir = new TempFolder();
        string path = dir.File("img");
        File.WriteAllBytes(path, [0, 0, 8, 3, 0, 0, 0, 1]);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("8 bytes long", e.Message, StringComparison.Ordinal);
        Assert.Contains("16-byte header", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_corrupt_gzip_stream_names_the_file()
    {
        using var dir = new TempFolder();
        string path = dir.File("img.gz");
        var gz = Gzip(Idx(1, [300], Pattern(300, 3)));
        for (int i = 10; i < gz.Length - 8; i++) gz[i] ^= 0x5A;
        File.WriteAllBytes(path, gz);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadLabels(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        AssertHint(e.Message);
    }

    internal static void AssertHint(string message)
    {
        Assert.Contains("apt-get install -y dataset-fashion-mnist", message, StringComparison.Ordinal);
        Assert.Contains("/usr/share/datasets/fashion-mnist", message, StringComparison.Ordinal);
        Assert.Contains("--data DIR", message, StringComparison.Ordinal);
    }
}
