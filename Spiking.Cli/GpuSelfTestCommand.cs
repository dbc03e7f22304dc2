using System;
using Spiking.Gpu;

namespace Spiking.Cli;

/// <summary>
/// <c>spiking gpu-selftest</c>: runs every CUDA kernel family on random inputs against the CPU backend and prints one
/// line per kernel with its largest error, then <c>N passed, M failed</c>. Without a usable CUDA driver it says what
/// is missing and exits 6 (unavailable), so scripts can tell "no GPU" from "a kernel is wrong" (exit 1).
/// </summary>
internal static class GpuSelfTestCommand
{
    public static int Run(Options options)
    {
        int ordinal = options.Int("device-index", 0, min: 0, max: 1023);
        int seed = options.Int("seed", 0, min: 0);
        options.RejectUnknown();
        if (!CudaBackend.IsAvailable(out string reason)) throw new CliException(ExitCode.Unavailable, $"gpu-selftest: no CUDA backend here: {reason}");
        var backend = CudaBackend.Open(ordinal);
        Console.WriteLine(backend.Description);
        var report = CudaSelfTest.Run(backend, seed, Console.Out);
        return (int)(report.AllPassed ? ExitCode.Success : ExitCode.CheckFailed);
    }
}
