using System;
using System.IO;

namespace Spiking.Layers.IO;

/// <summary>
/// Opens and reads input files (checkpoints, datasets, reference files) so that a wrong path fails at once with a
/// clear message instead of blocking or exhausting memory: only non-empty regular files are opened, and no read goes
/// past the size the file had when it was opened.
/// </summary>
/// <remarks>
/// .NET has no managed way to ask for a file's type on Unix (<see cref="FileSystemInfo.Attributes"/> says only
/// <c>Normal</c> for a pipe or a device, <see cref="File.GetUnixFileMode(string)"/> only the permissions), and opening a
/// named pipe for reading blocks until a writer appears, so the check happens before opening and rests on the size:
/// pipes, character and block devices, sockets and <c>/proc</c> files all report 0 bytes, and no input this library
/// reads is empty. Symbolic links are followed to their final target first, because a link reports its own length.
/// After opening, the handle's size must still be the one checked (a file swapped or changed in between is refused).
/// Every refusal is an <see cref="InvalidDataException"/> (or <see cref="FileNotFoundException"/>) naming the file.
/// </remarks>
public static class InputFile
{
    /// <summary>
    /// Opens the non-empty regular file <paramref name="path"/> for reading; the stream's <see cref="Stream.Length"/>
    /// is the size that was checked. Callers must not read more than that (a file that grows is caught by
    /// <see cref="ReadAllBytes"/>; a stream reader compares its own count).
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="what">What the file is, for messages: <c>"Safetensors file"</c>, <c>"IDX file"</c>, …</param>
    /// <param name="hint">Appended to every message (how to get the right file), or null.</param>
    /// <exception cref="FileNotFoundException">Nothing exists at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The path is a directory, an empty file, or not a regular file (a pipe, a device, a socket).</exception>
    public static FileStream OpenRead(string path, string what, string? hint = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentException.ThrowIfNullOrEmpty(what);
        long length = RegularLength(path, what, hint);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
        // fstat on the open handle: a path swapped for a device or another file after the check shows here.
        if (!stream.CanSeek || stream.Length != length)
        {
            stream.Dispose();
            throw Invalid(path, what, $"changed while it was opened (was {length} bytes); it must be a regular file that nothing is writing", hint);
        }
        return stream;
    }

    /// <summary>
    /// Reads all of the non-empty regular file <paramref name="path"/>, refusing one larger than
    /// <paramref name="maxBytes"/> before allocating, and one whose size changes while it is read.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="maxBytes">The largest size accepted, at most <see cref="Array.MaxLength"/>.</param>
    /// <param name="what">What the file is, for messages: <c>"Safetensors file"</c>, <c>"golden file"</c>, …</param>
    /// <param name="hint">Appended to every message, or null.</param>
    /// <exception cref="FileNotFoundException">Nothing exists at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">
    /// The path is a directory, an empty file or not a regular file, is larger than <paramref name="maxBytes"/>, or
    /// changed size while it was read.
    /// </exception>
    public static byte[] ReadAllBytes(string path, long maxBytes, string what, string? hint = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxBytes, Array.MaxLength);
        using var stream = OpenRead(path, what, hint);
        long length = stream.Length;
        if (length > maxBytes)
        {
            throw Invalid(path, what, $"is {length} bytes; at most {maxBytes} bytes are read{(maxBytes == Array.MaxLength ? " (one array, about 2 GiB)" : "")}", hint);
        }
        var bytes = new byte[length];
        int got = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
        // One byte past the size seen tells a growing file from a complete one without reading the growth.
        Span<byte> probe = stackalloc byte[1];
        if (got < length || stream.Read(probe) != 0)
        {
            throw Invalid(path, what, $"changed size while it was read (was {length} bytes); it must be a regular file that nothing is writing", hint);
        }
        return bytes;
    }

    private static long RegularLength(string path, string what, string? hint)
    {
        FileSystemInfo info = new FileInfo(path);
        if (info.LinkTarget is not null)
        {
            info = info.ResolveLinkTarget(returnFinalTarget: true) ?? info;
        }
        if (info is not FileInfo file || !file.Exists)
        {
            if (Directory.Exists(info.FullName)) throw Invalid(path, what, "is a directory, not a file", hint);
            throw new FileNotFoundException($"{what} '{path}' does not exist.{Suffix(hint)}", path);
        }
        long length = file.Length;
        if (length == 0)
        {
            throw Invalid(path, what, "is empty or not a regular file (a pipe, a device, a socket or a /proc file report 0 bytes); it must be a regular, non-empty file", hint);
        }
        return length;
    }

    private static InvalidDataException Invalid(string path, string what, string problem, string? hint) => new($"{what} '{path}' {problem}.{Suffix(hint)}");

    private static string Suffix(string? hint) => hint is null ? "" : " " + hint;
}
