using System;
using System.ComponentModel;
using System.Diagnostics;
using System.IO;
using System.Threading;
using Spiking.Layers.Data;
using Spiking.Layers.IO;
using Spiking.Layers.Serialization;
using Xunit;

namespace Spiking.Tests.Layers;

/// <summary>
/// Every loader refuses what is not a regular, non-empty file (a named pipe, a device, a directory) with an
/// InvalidDataException naming it, without blocking or reading without end; and a gzip IDX file must end where its
/// gzip data ends and cannot declare more than its size could decompress to.
/// </summary>
public sealed class InputFileTests
{
    private static readonly TimeSpan s_watchdog = TimeSpan.FromSeconds(30);

    private static readonly (string Name, Action<string> Load)[] s_loaders =
    [
        ("SafeTensors.Read", path => SafeTensors.Read(path)),
        ("IdxFile.ReadImages", path => IdxFile.ReadImages(path)),
        ("IdxFile.ReadLabels", path => IdxFile.ReadLabels(path)),
        ("InputFile.ReadAllBytes", path => InputFile.ReadAllBytes(path, Array.MaxLength, "Golden file")),
    ];

    /// <summary>Runs <paramref name="load"/> on its own thread and returns what it threw; fails if it runs past the watchdog.</summary>
    private static Exception? Outcome(Action load, string what, Action? unblock = null)
    {
        Exception? thrown = null;
        var thread = new Thread(() =>
        {
            try
            {
                load();
            }
            catch (Exception e)
            {
                thrown = e;
            }
        }) { IsBackground = true };
        thread.Start();
        if (!thread.Join(s_watchdog))
        {
            unblock?.Invoke();
            Assert.Fail($"{what} was still running after {s_watchdog.TotalSeconds} s (blocked or reading without end).");
        }
        return thrown;
    }

    private static void AssertRefused(string path, string expectedInMessage, Action? unblock = null)
    {
        foreach (var (name, load) in s_loaders)
        {
            var e = Outcome(() => load(path), $"{name}('{path}')", unblock);
            var invalid = Assert.IsType<InvalidDataException>(e);
            Assert.Contains(path, invalid.Message, StringComparison.Ordinal);
            Assert.Contains(expectedInMessage, invalid.Message, StringComparison.Ordinal);
        }
    }

    private static void MakeFifo(string path)
    {
        Process process;
        try
        {
            process = Process.Start(new ProcessStartInfo("mkfifo", [path]) { UseShellExecute = false })!;
        }
        catch (Win32Exception e)
        {
            Assert.Skip($"mkfifo could not be started ({e.Message}), so no named pipe can be made for this test.");
            return;
        }
        using (process)
        {
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"mkfifo {path} exited with {process.ExitCode}");
        }
    }

    // A reader blocked in open(2) on a pipe is released by a writer opening it.
    private static Action Unblock(string fifo) => () =>
    {
        using var writer = new FileStream(fifo, FileMode.Open, FileAccess.Write);
    };

    [Fact]
    public void A_named_pipe_is_refused_without_opening_it()
    {
        using var dir = new TempFolder();
        var fifo = dir.File("pipe");
        MakeFifo(fifo);
        AssertRefused(fifo, "not a regular file", Unblock(fifo));
    }

    [Fact]
    public void A_symbolic_link_to_a_named_pipe_is_refused_too()
    {
        using var dir = new TempFolder();
        var fifo = dir.File("pipe");
        MakeFifo(fifo);
        var link = dir.File("link.safetensors");
        File.CreateSymbolicLink(link, fifo);
        AssertRefused(link, "not a regular file", Unblock(fifo));
    }

    [Theory]
    [InlineData("/dev/zero")]
    [InlineData("/dev/null")]
    public void A_device_is_refused(string device)
    {
        Assert.True(File.Exists(device), $"{device} is missing; these tests run on Linux.");
        AssertRefused(device, "not a regular file");
    }

    [Fact]
    public void A_directory_and_an_empty_file_are_refused_and_a_missing_file_is_not_found()
    {
        using var dir = new TempFolder();
        AssertRefused(dir.Path, "is a directory");
        File.WriteAllBytes(dir.File("empty"), []);
        AssertRefused(dir.File("empty"), "is empty");
        foreach (var (name, load) in s_loaders)
        {
            var e = Assert.IsType<FileNotFoundException>(Outcome(() => load(dir.File("missing")), name));
            Assert.Contains(dir.File("missing"), e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_file_larger_than_the_limit_is_refused_before_it_is_read()
    {
        using var dir = new TempFolder();
        var path = dir.File("big.json");
        File.WriteAllBytes(path, new byte[17]);
        var e = Assert.Throws<InvalidDataException>(() => InputFile.ReadAllBytes(path, 16, "Golden file"));
        Assert.Contains($"Golden file '{path}' is 17 bytes; at most 16", e.Message, StringComparison.Ordinal);
        Assert.Equal(17, InputFile.ReadAllBytes(path, 17, "Golden file").Length);
    }

    [Theory]
    [InlineData(new byte[] { 0x41, 0x42, 0x43 })]
    [InlineData(new byte[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 })]
    [InlineData(new byte[] { 0x1F })]
    [InlineData(new byte[] { 0x1F, 0x8B })]
    [InlineData(new byte[] { 0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0 })]
    public void A_gzip_idx_file_with_bytes_after_its_gzip_data_is_refused(byte[] garbage)
    {
        using var dir = new TempFolder();
        var path = dir.File("labels.gz");
        File.WriteAllBytes(path, [.. IdxFileTests.Gzip(IdxFileTests.Idx(1, [5], [1, 2, 3, 4, 5])), .. garbage]);
        var e = Assert.IsType<InvalidDataException>(Outcome(() => IdxFile.ReadLabels(path), "ReadLabels"));
        Assert.Contains($"IDX file '{path}'", e.Message, StringComparison.Ordinal);
        Assert.Contains(IdxFile.DataHint, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_gzip_idx_file_of_several_members_is_read_whole()
    {
        using var dir = new TempFolder();
        var path = dir.File("labels.gz");
        var idx = IdxFileTests.Idx(1, [5], [1, 2, 3, 4, 5]);
        File.WriteAllBytes(path, [.. IdxFileTests.Gzip(idx[..6]), .. IdxFileTests.Gzip(idx[6..])]);
        Assert.Equal([1, 2, 3, 4, 5], IdxFile.ReadLabels(path));
    }

    [Fact]
    public void A_gzip_header_declaring_more_than_the_file_can_decompress_to_is_refused_before_allocating()
    {
        using var dir = new TempFolder();
        var path = dir.File("bomb.gz");
        // 1000 images of 1000×1000: a gigabyte declared in a file of a few dozen bytes (deflate tops out at 1032:1).
        File.WriteAllBytes(path, IdxFileTests.Gzip(IdxFileTests.Idx(3, [1000, 1000, 1000], [])));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains($"IDX file '{path}' declares images of sizes [1000, 1000, 1000]", e.Message, StringComparison.Ordinal);
        Assert.Contains("can decompress to", e.Message, StringComparison.Ordinal);
        Assert.True(allocated < 1 << 20, $"refusing the bomb allocated {allocated} bytes");
    }
}
