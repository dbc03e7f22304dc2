using System;
using System.Collections.Concurrent;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using Spiking.Gpu.Interop;

namespace Spiking.Gpu;

/// <summary>
/// Compiles kernel families to PTX with NVRTC, once per (family, architecture) in a process, and across processes
/// through a disk cache under <c>$XDG_CACHE_HOME/spiking/cuda</c> (else <c>~/.cache/spiking/cuda</c>) keyed by a hash
/// of the source, the options and the NVRTC library, so a training run does not pay seconds of compilation each time.
/// Options: the device's virtual architecture (the driver JIT-compiles the PTX for the exact chip), C++17, and
/// <c>--fmad=false</c> so that no multiply and add are fused: float results then follow the CPU's operation order.
/// </summary>
internal static class KernelCompiler
{
    private static readonly ConcurrentDictionary<(string Family, string Architecture), byte[]> s_ptx = new();

    /// <summary>The NVRTC options for compute capability <paramref name="major"/>.<paramref name="minor"/>.</summary>
    public static string[] Options(int major, int minor) => [$"--gpu-architecture=compute_{major}{minor}", "-std=c++17", "--fmad=false"];

    /// <summary>The PTX of <paramref name="family"/> for the given compute capability, NUL-terminated.</summary>
    /// <exception cref="CudaException">NVRTC rejected the source; the message holds its log.</exception>
    public static byte[] Ptx(Nvrtc nvrtc, string family, int major, int minor) =>
        s_ptx.GetOrAdd((family, $"{major}{minor}"), key => Compile(nvrtc, key.Family, Options(major, minor)));

    private static byte[] Compile(Nvrtc nvrtc, string family, string[] options)
    {
        string source = KernelSource.Load(family);
        string key = CacheKey(source, options, $"{nvrtc.Path} {nvrtc.Version()}");
        string? file = CacheFile(key);
        if (file is not null && TryRead(file) is { } cached) return cached;
        var ptx = nvrtc.CompileToPtx(source, $"{family}.cu", options);
        if (file is not null) TryWrite(file, ptx);
        return ptx;
    }

    private static string CacheKey(string source, string[] options, string compiler)
    {
        var text = $"{source}\0{string.Join('\0', options)}\0{compiler}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    private static string? CacheFile(string key)
    {
        string? root = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (string.IsNullOrEmpty(root))
        {
            string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            if (string.IsNullOrEmpty(home)) return null;
            root = Path.Combine(home, ".cache");
        }
        return Path.Combine(root, "spiking", "cuda", key + ".ptx");
    }

    // The disk cache only saves time: a file that cannot be read or written is compiled again, never an error.
    private static byte[]? TryRead(string file)
    {
        try
        {
            return File.Exists(file) ? File.ReadAllBytes(file) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void TryWrite(string file, byte[] ptx)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            // Written aside and renamed, so a concurrent reader sees the whole file or none.
            string temporary = $"{file}.{Environment.ProcessId}.tmp";
            File.WriteAllBytes(temporary, ptx);
            File.Move(temporary, file, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
    }
}
