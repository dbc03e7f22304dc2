using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;

namespace Spiking.Gpu.Interop;

/// <summary>
/// Finds a native library among candidate file names with <see cref="NativeLibrary.TryLoad(string, out IntPtr)"/>:
/// when <c>SPIKING_CUDA_LIBRARY_PATH</c> names a folder its files are tried first (a toolkit outside the loader's
/// path, or the CPU emulator of the tests), then the plain names through the system's search.
/// </summary>
internal static class NativeLibraryProbe
{
    /// <summary>The environment variable naming a folder searched before the system's library path.</summary>
    public const string PathVariable = "SPIKING_CUDA_LIBRARY_PATH";

    /// <summary>The candidate paths for <paramref name="names"/>, in the order they are tried.</summary>
    public static IReadOnlyList<string> Candidates(IReadOnlyList<string> names)
    {
        var candidates = new List<string>(names.Count * 2);
        var folder = Environment.GetEnvironmentVariable(PathVariable);
        if (!string.IsNullOrWhiteSpace(folder) && Directory.Exists(folder))
        {
            foreach (var name in names) candidates.Add(Path.Combine(folder, name));
        }
        candidates.AddRange(names);
        return candidates;
    }

    /// <summary>Loads the first of <paramref name="names"/> that loads; false (and a zero handle) when none does.</summary>
    public static bool TryLoad(IReadOnlyList<string> names, out IntPtr handle, out string loadedFrom)
    {
        foreach (var candidate in Candidates(names))
        {
            // A rooted candidate that does not exist is skipped without asking the loader, which would only fail.
            if (Path.IsPathRooted(candidate) && !File.Exists(candidate)) continue;
            if (NativeLibrary.TryLoad(candidate, out handle))
            {
                loadedFrom = candidate;
                return true;
            }
        }
        handle = IntPtr.Zero;
        loadedFrom = "";
        return false;
    }

    /// <summary>The address of <paramref name="symbol"/> in <paramref name="library"/>.</summary>
    /// <exception cref="EntryPointNotFoundException">The library does not export it (a driver or toolkit too old).</exception>
    public static IntPtr Export(IntPtr library, string libraryName, string symbol)
    {
        if (NativeLibrary.TryGetExport(library, symbol, out var address)) return address;
        throw new EntryPointNotFoundException($"{libraryName} does not export {symbol}; the CUDA driver or toolkit is too old.");
    }
}
