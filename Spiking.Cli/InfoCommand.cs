using System;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Spiking.Gpu;
using Spiking.Tensors;

namespace Spiking.Cli;

/// <summary><c>spiking info</c>: what the engine sees of this machine.</summary>
internal static class InfoCommand
{
    public static int Run(Options options)
    {
        options.RejectUnknown();
        Console.WriteLine($"runtime      {RuntimeInformation.FrameworkDescription} {RuntimeInformation.ProcessArchitecture}");
        Console.WriteLine($"os           {RuntimeInformation.OSDescription}");
        Console.WriteLine($"cpu          {MachineInfo.CpuName()}");
        Console.WriteLine($"threads      {Parallelism.MaxThreads} of {Environment.ProcessorCount} logical processors");
        Console.WriteLine($"simd         Vector512={Vector512.IsHardwareAccelerated} Vector256={Vector256.IsHardwareAccelerated} Vector128={Vector128.IsHardwareAccelerated}");
        Console.WriteLine(CudaBackend.IsAvailable(out string reason) ? $"cuda         {CudaBackend.Open().Description}" : $"cuda         unavailable: {reason}");
        return 0;
    }
}
